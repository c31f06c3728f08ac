/**
 * Switching the active group: new kernels get it at once, running ones at their next restart,
 * so the user is offered a restart of the notebook they worked in last.
 */
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';

import { api, asProblem } from './api';
import { SidebarModel } from './model';
import { currentNotebook, hasKernel } from './notebook';
import { problemText } from './problem';

export async function switchGroup(
  group: string,
  model: SidebarModel,
  notebooks: INotebookTracker | null
): Promise<void> {
  let message: string;
  try {
    message = (await api.setActive(group)).message;
  } catch (error) {
    await showErrorMessage(
      `Could not switch to the group ${group}`,
      problemText(asProblem(error))
    );
    return;
  }
  model.groupSwitched();
  const notebook = currentNotebook(notebooks);
  if (notebook && hasKernel(notebook)) {
    Notification.info(message, {
      autoClose: false,
      actions: [
        {
          label: `Restart the kernel of ${notebook.title.label}`,
          displayType: 'accent',
          callback: () => void notebook.sessionContext.restartKernel()
        }
      ]
    });
  } else {
    Notification.info(message, { autoClose: 8000 });
  }
}
