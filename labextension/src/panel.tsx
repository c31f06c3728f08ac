/**
 * The sidebar widget: renders the panel whenever the sidebar's state changes.
 */
import { INotebookTracker } from '@jupyterlab/notebook';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import React from 'react';

import { ICompareArgs, OpenCompare } from './compare/context';
import { OpenMlflowUi } from './components/MlflowUiLink';
import { Sidebar } from './components/Sidebar';
import { mlflowIcon } from './icon';
import { SidebarModel } from './model';

export const SIDEBAR_ID = 'jupyter-mlflow-groups-sidebar';

export class MlflowSidebar extends ReactWidget {
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

  render(): JSX.Element {
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

  dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}
