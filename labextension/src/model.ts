/**
 * The sidebar's state that commands change too: which view is shown, reloads, deploy jobs.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { JobTracker } from './jobs';

/** The views of the Models tab. */
export type ModelsView =
  | { kind: 'models' }
  | { kind: 'model'; name: string }
  | { kind: 'version'; name: string; version: string };

export type View = ModelsView | { kind: 'deployments' } | { kind: 'requests' };

export type Tab = 'models' | 'deployments' | 'requests';

export class SidebarModel {
  readonly jobs = new JobTracker();
  private _view: View = { kind: 'models' };
  /** Where the Models tab was last: it opens there again. */
  private _modelsView: ModelsView = { kind: 'models' };
  private _reload = 0;
  /** The group shown now (live updates of other groups need no reading again). */
  activeGroup: string | null = null;
  private readonly _changed = new Signal<this, void>(this);

  constructor() {
    // a finished job changes "Deployed By" and the deployments: read them again
    this.jobs.finished.connect(() => this.refresh());
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get view(): View {
    return this._view;
  }

  /** Grows at every refresh: views read again, bypassing the server's cache. */
  get reload(): number {
    return this._reload;
  }

  get tab(): Tab {
    const kind = this._view.kind;
    return kind === 'deployments' || kind === 'requests' ? kind : 'models';
  }

  show(view: View): void {
    this._view = view;
    if (view.kind !== 'deployments' && view.kind !== 'requests') {
      this._modelsView = view;
    }
    this._changed.emit();
  }

  /** A tab, as it was left: the Models tab on the model or version that was open. */
  showTab(tab: Tab): void {
    this.show(tab === 'models' ? this._modelsView : { kind: tab });
  }

  refresh(): void {
    this._reload += 1;
    this._changed.emit();
  }

  /** The active group changed: everything shown belonged to the old one. */
  groupSwitched(): void {
    this._view = this._modelsView = { kind: 'models' };
    this.refresh();
  }

  dispose(): void {
    this.jobs.dispose();
    Signal.clearData(this);
  }
}
