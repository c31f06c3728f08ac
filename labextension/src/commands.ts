/**
 * The panel's commands, for the command palette.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { api, asProblem } from './api';
import { compareArgs } from './compare/context';
import { CompareTabs } from './compare/tab';
import { mlflowIcon } from './icon';
import { MlflowUiTabs } from './mlflowUi';
import { MlflowSidebar } from './panel';
import { problemText } from './problem';
import { switchGroup } from './switchGroup';
import { IGroups } from './types';

export const CommandIDs = {
  open: 'mlflow-groups:open',
  refresh: 'mlflow-groups:refresh',
  switchGroup: 'mlflow-groups:switch-group',
  deployments: 'mlflow-groups:show-deployments',
  requests: 'mlflow-groups:show-requests',
  openMlflowUi: 'mlflow-groups:open-mlflow-ui',
  /** Not in the palette: it needs versions, which the sidebar's versions table picks. */
  compare: 'mlflow-groups:compare'
};

const IN_PALETTE = [
  CommandIDs.open,
  CommandIDs.refresh,
  CommandIDs.switchGroup,
  CommandIDs.deployments,
  CommandIDs.requests,
  CommandIDs.openMlflowUi
];

const CATEGORY = 'MLflow';

export function addCommands(
  app: JupyterFrontEnd,
  sidebar: MlflowSidebar,
  notebooks: INotebookTracker | null,
  palette: ICommandPalette | null,
  mlflowUi: MlflowUiTabs,
  compareTabs: CompareTabs
): void {
  const { commands, shell } = app;
  const model = sidebar.model;

  commands.addCommand(CommandIDs.open, {
    label: 'Show MLflow Models',
    caption: 'Open the MLflow panel on the models of your group',
    icon: mlflowIcon,
    execute: () => {
      model.showTab('models');
      shell.activateById(sidebar.id);
    }
  });

  commands.addCommand(CommandIDs.deployments, {
    label: 'Show MLflow Deployments',
    caption: "Open the MLflow panel on the group's deployments",
    execute: () => {
      model.showTab('deployments');
      shell.activateById(sidebar.id);
    }
  });

  commands.addCommand(CommandIDs.requests, {
    label: 'Show MLflow Requests',
    caption: "Open the MLflow panel on the group's alias requests (an admin reviews them there)",
    execute: () => {
      model.showTab('requests');
      shell.activateById(sidebar.id);
    }
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh MLflow Panel',
    caption: 'Ask MLflow again, bypassing the short cache',
    execute: () => model.refresh()
  });

  commands.addCommand(CommandIDs.openMlflowUi, {
    label: 'Open MLflow UI',
    caption: 'Open the MLflow UI of your group (experiments, runs, artifacts) in a tab',
    icon: mlflowIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          url: {
            type: 'string',
            description: "The page to open (default: the active group's MLflow UI)"
          }
        }
      }
    },
    execute: async args => {
      const url = typeof args.url === 'string' ? args.url : await activeUiUrl();
      if (url) {
        mlflowUi.open(url);
      }
    }
  });

  commands.addCommand(CommandIDs.compare, {
    label: 'Compare Model Versions',
    caption: 'Compare versions of a model side by side in a tab',
    icon: mlflowIcon,
    describedBy: {
      args: {
        type: 'object',
        required: ['group', 'model', 'versions'],
        properties: {
          group: { type: 'string', description: 'The MLflow group' },
          model: { type: 'string', description: 'The registered model' },
          versions: {
            type: 'array',
            items: { type: 'string' },
            minItems: 2,
            maxItems: 10,
            description: 'Version numbers or @aliases'
          }
        }
      }
    },
    execute: async args => {
      const asked = compareArgs(args);
      if (!asked) {
        await showErrorMessage(
          'Cannot compare these versions',
          'Compare takes a group, a model and from 2 to 10 versions.'
        );
        return;
      }
      return compareTabs.open(asked);
    }
  });

  commands.addCommand(CommandIDs.switchGroup, {
    label: 'Switch MLflow Group…',
    caption: 'Choose the group whose MLflow new kernels use',
    execute: async () => {
      let names: string[];
      let active: string | null;
      try {
        const groups = await api.groups();
        names = groups.groups.map(group => group.name);
        active = groups.active;
      } catch (error) {
        await showErrorMessage('Could not list your MLflow groups', problemText(asProblem(error)));
        return;
      }
      const choice = await InputDialog.getItem({
        title: 'Switch MLflow group',
        label: 'New kernels, and running ones after a restart, use the group:',
        items: names,
        current: active ?? undefined
      });
      if (choice.button.accept && choice.value && choice.value !== active) {
        await switchGroup(choice.value, model, notebooks);
      }
    }
  });

  for (const command of IN_PALETTE) {
    palette?.addItem({ command, category: CATEGORY });
  }
}

/** The active group's MLflow UI; null (after saying why) when there is none. */
async function activeUiUrl(): Promise<string | null> {
  let groups: IGroups;
  try {
    groups = await api.groups();
  } catch (error) {
    await showErrorMessage('Could not list your MLflow groups', problemText(asProblem(error)));
    return null;
  }
  const active = groups.groups.find(group => group.name === groups.active);
  if (!active?.ui_url) {
    await showErrorMessage(
      'No MLflow UI to open',
      active
        ? `Group '${active.name}' has no MLflow UI: its binding has no http(s) server.`
        : 'No MLflow group is active: choose one in the MLflow panel.'
    );
    return null;
  }
  return active.ui_url;
}
