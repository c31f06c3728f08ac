/**
 * The sidebar's state that commands change too: which view is shown, reloads, deploy jobs.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { JobTracker } from './jobs';

export type View =
  | { kind: 'models' }
  | { kind: 'model'; name: string }
  | { kind: 'version'; name: string; version: string }
  | { kind: 'deployments' };

export class SidebarModel {
  readonly jobs = new JobTracker();
  private _view: View = { kind: 'models' };
  private _reload = 0;
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

  show(view: View): void {
    this._view = view;
    this._changed.emit();
  }

  refresh(): void {
    this._reload += 1;
    this._changed.emit();
  }

  /** The active group changed: everything shown belonged to the old one. */
  groupSwitched(): void {
    this._view = { kind: 'models' };
    this.refresh();
  }

  dispose(): void {
    this.jobs.dispose();
    Signal.clearData(this);
  }
}
