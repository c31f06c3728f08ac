/**
 * jupyter-mlflow-groups: the MLflow panel in JupyterLab's left sidebar, and a group's MLflow UI
 * in a main-area tab.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { CommandIDs, addCommands } from './commands';
import { MlflowUiTabs } from './mlflowUi';
import { SidebarModel } from './model';
import { MlflowSidebar } from './panel';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlflow-groups:sidebar',
  description:
    "Your group's MLflow models, versions and deployments in the left sidebar, its UI in a tab.",
  autoStart: true,
  optional: [ICommandPalette, INotebookTracker, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    restorer: ILayoutRestorer | null
  ) => {
    const openMlflowUi = (url: string) =>
      void app.commands.execute(CommandIDs.openMlflowUi, { url });
    const sidebar = new MlflowSidebar(new SidebarModel(), notebooks, openMlflowUi);
    app.shell.add(sidebar, 'left', { rank: 650 });
    const mlflowUi = new MlflowUiTabs(app.shell);
    restorer?.add(sidebar, sidebar.id);
    void restorer?.restore(mlflowUi.tracker, {
      command: CommandIDs.openMlflowUi,
      args: widget => ({ url: widget.content.url }),
      name: widget => widget.id
    });
    addCommands(app, sidebar, notebooks, palette, mlflowUi);
  }
};

export default plugin;
