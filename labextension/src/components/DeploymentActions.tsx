/**
 * What can be done to a deployment: stop or start its model server, remove it (after a
 * confirmation). A refusal says what happened and what to do (the server's message and hint).
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { api, asProblem } from '../api';
import { problemText } from '../problem';
import { IDeployment } from '../types';

type Action = 'stop' | 'start' | 'remove';

const FAILED: Record<Action, string> = {
  stop: 'Could not stop',
  start: 'Could not start',
  remove: 'Could not remove'
};

async function confirmRemoval(deployment: IDeployment): Promise<boolean> {
  const answer = await showDialog({
    title: `Remove the deployment ${deployment.name}?`,
    body:
      `${deployment.name} stops serving ${deployment.model} v${deployment.version} and its ` +
      "copy of the version's files is deleted; its endpoint stops answering. The version " +
      'stays registered in MLflow: you can deploy it again.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })]
  });
  return answer.button.accept;
}

export function DeploymentActions(props: {
  deployment: IDeployment;
  /** The deployment changed (or is gone): read the deployments again. */
  onChanged: () => void;
}): JSX.Element {
  const { deployment, onChanged } = props;
  const [busy, setBusy] = useState(false);
  const run = async (action: Action) => {
    if (action === 'remove' && !(await confirmRemoval(deployment))) {
      return;
    }
    setBusy(true);
    const { group, name } = deployment;
    try {
      await (action === 'stop'
        ? api.stopDeployment(group, name)
        : action === 'start'
          ? api.startDeployment(group, name)
          : api.removeDeployment(group, name));
    } catch (error) {
      await showErrorMessage(`${FAILED[action]} ${name}`, problemText(asProblem(error)));
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  const deploying = deployment.status === 'deploying';
  const serving = deployment.status === 'serving' || deployment.status === 'starting';
  const why = deploying ? 'A deploy job is running for it: wait for it, or cancel it' : undefined;
  return (
    <div className="jp-MlflowGroups-actions" aria-busy={busy}>
      {serving ? (
        <Button
          small
          disabled={busy}
          onClick={() => void run('stop')}
          title={`Stop the model server of ${deployment.name} (its files are kept)`}
        >
          Stop
        </Button>
      ) : (
        <Button
          small
          disabled={busy || deploying}
          onClick={() => void run('start')}
          title={why ?? `Serve ${deployment.model} v${deployment.version} again`}
        >
          Start
        </Button>
      )}
      <Button
        small
        disabled={busy || deploying}
        onClick={() => void run('remove')}
        title={why ?? `Stop serving ${deployment.name} and delete its copy of the files`}
      >
        Remove…
      </Button>
    </div>
  );
}
