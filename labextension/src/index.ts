/**
 * jupyter-mlflow-groups: the MLflow panel in JupyterLab's left sidebar.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { addCommands } from './commands';
import { SidebarModel } from './model';
import { MlflowSidebar } from './panel';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlflow-groups:sidebar',
  description: "Your group's MLflow models, versions and deployments in the left sidebar.",
  autoStart: true,
  optional: [ICommandPalette, INotebookTracker, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    restorer: ILayoutRestorer | null
  ) => {
    const sidebar = new MlflowSidebar(new SidebarModel(), notebooks);
    app.shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, sidebar.id);
    addCommands(app, sidebar, notebooks, palette);
  }
};

export default plugin;
