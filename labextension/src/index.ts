/**
 * jupyter-mlflow-groups: the MLflow panel in JupyterLab's left sidebar, a group's MLflow UI
 * in a main-area tab, versions of a model compared in tabs of their own, and the views of the
 * notebook chart widgets (widget/plugin.ts).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { CommandIDs, addCommands } from './commands';
import { ICompareArgs } from './compare/context';
import { CompareTabs } from './compare/tab';
import { LiveUpdates } from './live';
import { MlflowUiTabs } from './mlflowUi';
import { SidebarModel } from './model';
import { ChangeNotifier } from './notifications';
import { MlflowSidebar } from './panel';
import { widgetPlugin } from './widget/plugin';

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
    const compare = (args: ICompareArgs) =>
      void app.commands.execute(CommandIDs.compare, { ...args });
    const sidebar = new MlflowSidebar(new SidebarModel(), notebooks, openMlflowUi, compare);
    app.shell.add(sidebar, 'left', { rank: 650 });
    const mlflowUi = new MlflowUiTabs(app.shell);
    const compareTabs = new CompareTabs(app.shell, openMlflowUi);
    restorer?.add(sidebar, sidebar.id);
    void restorer?.restore(mlflowUi.tracker, {
      command: CommandIDs.openMlflowUi,
      args: widget => ({ url: widget.content.url }),
      name: widget => widget.id
    });
    void restorer?.restore(compareTabs.tracker, {
      command: CommandIDs.compare,
      args: widget => ({ ...widget.content.args }),
      name: widget => widget.id
    });
    addCommands(app, sidebar, notebooks, palette, mlflowUi, compareTabs);
    // what others change (the MLflow UI, a colleague's approval, a follow) shows by itself
    const notifier = new ChangeNotifier({
      showRequests: () => void app.commands.execute(CommandIDs.requests),
      showDeployments: () => void app.commands.execute(CommandIDs.deployments)
    });
    const live = new LiveUpdates({
      stream: app.serviceManager.events.stream,
      activeGroup: () => sidebar.model.activeGroup,
      refresh: () => sidebar.model.refresh(),
      onChange: change => notifier.changed(change)
    });
    sidebar.disposed.connect(() => live.dispose());
  }
};

export default [plugin, widgetPlugin];
