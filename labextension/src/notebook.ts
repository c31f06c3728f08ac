/**
 * What the panel does to the notebook the user worked in last: insert code, restart its kernel.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

/** The notebook that was active last, if one is open. */
export function currentNotebook(
  notebooks: INotebookTracker | null
): NotebookPanel | null {
  return notebooks?.currentWidget ?? null;
}

/** Insert `code` at the cursor of the active cell; false when no cell is active. */
export function insertIntoActiveCell(
  notebooks: INotebookTracker | null,
  code: string
): boolean {
  const cell = notebooks?.activeCell;
  if (!cell) {
    return false;
  }
  const editor = cell.editor;
  if (editor?.replaceSelection) {
    editor.replaceSelection(code);
  } else {
    const source = cell.model.sharedModel.getSource();
    cell.model.sharedModel.setSource(source ? `${source}\n${code}` : code);
  }
  return true;
}

/** Whether the notebook has a kernel that a restart would give the new group. */
export function hasKernel(notebook: NotebookPanel | null): boolean {
  return !!notebook?.sessionContext.session?.kernel;
}
