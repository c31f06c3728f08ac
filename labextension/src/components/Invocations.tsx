/**
 * How to call a local deployment: its full invocations URL (POST JSON, with your Jupyter
 * login or token), copyable, and the one line that calls it from a notebook.
 */
import React from 'react';

import { CopyButton } from './CopyButton';

export function Invocations(props: {
  group: string;
  deployment: string;
  /** The invocations URL's path on this server. */
  path: string;
}): JSX.Element {
  const url = window.location.origin + props.path;
  const call = `get_deploy_client(${JSON.stringify(
    `jupyter-mlflow-groups:/${props.group}`
  )}).predict(${JSON.stringify(props.deployment)}, df)`;
  return (
    <div className="jp-MlflowGroups-invocations">
      <div className="jp-MlflowGroups-invocationsHead">
        <span>Invocations URL</span>
        <CopyButton
          text={url}
          what={`the invocations URL of ${props.deployment}`}
          label={`Copy the invocations URL of ${props.deployment}`}
        />
      </div>
      <code
        className="jp-MlflowGroups-invocationsUrl"
        title="POST JSON here, with your Jupyter login or token"
      >
        {url}
      </code>
      <div className="jp-MlflowGroups-muted">
        From a notebook: <code className="jp-MlflowGroups-invocationsCall">{call}</code>
      </div>
    </div>
  );
}
