/**
 * Deploying a version: choose the deployment, start the job, follow it in the panel.
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { api, asProblem } from './api';
import { DeploymentChooser } from './components/DeploymentChooser';
import { JobTracker } from './jobs';
import { problemText } from './problem';

export async function deployVersion(
  group: string,
  model: string,
  version: string,
  jobs: JobTracker
): Promise<void> {
  const choice = await showDialog({
    title: `Deploy ${model} v${version}`,
    body: new DeploymentChooser(group, model),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Deploy' })],
    focusNodeSelector: 'input'
  });
  const deployment = choice.value;
  if (!choice.button.accept) {
    return;
  }
  if (!deployment) {
    await showErrorMessage('No deployment name', 'Give the new deployment a name.');
    return;
  }
  try {
    jobs.track((await api.deploy(group, deployment, model, version)).job);
  } catch (error) {
    await showErrorMessage(
      `Could not deploy ${model} v${version} to ${deployment}`,
      problemText(asProblem(error))
    );
  }
}
