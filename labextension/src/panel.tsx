/**
 * The sidebar widget: renders the panel whenever the sidebar's state changes, from the first
 * time it is shown on: hidden, as JupyterLab starts, it draws nothing and reads nothing.
 */
import { INotebookTracker } from '@jupyterlab/notebook';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import React from 'react';

import { ICompareArgs, OpenCompare } from './compare/context';
import { OpenMlflowUi } from './components/MlflowUiLink';
import { Sidebar } from './components/Sidebar';
import { mlflowIcon } from './icon';
import { SidebarModel } from './model';

export const SIDEBAR_ID = 'jupyter-mlflow-groups-sidebar';

export class MlflowSidebar extends ReactWidget {
  private _started = false;

  constructor(
    readonly model: SidebarModel,
    private readonly _notebooks: INotebookTracker | null,
    private readonly _openMlflowUi: (url: string) => void,
    private readonly _compare: ((args: ICompareArgs) => void) | null = null
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-MlflowGroups');
    this.title.icon = mlflowIcon;
    this.title.caption = 'MLflow: models and deployments of your group';
    // deploy jobs are polled only while they can be seen: the panel shown, the tab visible
    model.jobs.standby = () => (this.isVisible ? 'when-hidden' : true);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this._start();
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._start();
  }

  render(): JSX.Element | null {
    if (!this._started) {
      return null;
    }
    return (
      <OpenMlflowUi.Provider value={this._openMlflowUi}>
        <OpenCompare.Provider value={this._compare}>
          <UseSignal signal={this.model.changed}>
            {() => <Sidebar model={this.model} notebooks={this._notebooks} />}
          </UseSignal>
        </OpenCompare.Provider>
      </OpenMlflowUi.Provider>
    );
  }

  /** Renders the panel from now on (and reads what it shows); nothing until then. */
  private _start(): void {
    if (!this._started) {
      this._started = true;
      this.update();
    }
  }

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
