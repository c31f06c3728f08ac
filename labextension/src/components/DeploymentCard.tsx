/**
 * One deployment, wherever it is shown: its name and status, what it serves (linked to the
 * version in the MLflow UI), when and by whom it last changed, its endpoint and how to call
 * it, and Stop / Start / Remove.
 */
import React from 'react';

import { IDeployment } from '../types';
import { DeploymentActions } from './DeploymentActions';
import { Invocations } from './Invocations';
import { MlflowUiLink } from './MlflowUiLink';
import { Time } from './Time';

export interface IDeploymentCardProps {
  deployment: IDeployment;
  onChanged: () => void;
}

export function DeploymentCard(props: IDeploymentCardProps): JSX.Element {
  const { deployment } = props;
  const served = `${deployment.model} v${deployment.version}`;
  return (
    <li className="jp-MlflowGroups-deployment" data-name={deployment.name}>
      <div className="jp-MlflowGroups-deploymentHead">
        <span className="jp-MlflowGroups-deploymentName">{deployment.name}</span>
        <span className={`jp-MlflowGroups-status jp-mod-${deployment.status}`}>
          {deployment.status}
        </span>
      </div>
      <div>
        {deployment.ui_url ? (
          <MlflowUiLink href={deployment.ui_url} label={`Open ${served} in MLflow UI`}>
            {served}
          </MlflowUiLink>
        ) : (
          served
        )}
        {deployment.requested.startsWith('@') && ` (${deployment.requested})`}
        {deployment.updated_at && (
          <span className="jp-MlflowGroups-muted">
            {' '}
            · <Time iso={deployment.updated_at} ago />
            {deployment.updated_by && ` by ${deployment.updated_by}`}
          </span>
        )}
      </div>
      {deployment.message && (
        <div className="jp-MlflowGroups-deploymentMessage">{deployment.message}</div>
      )}
      {deployment.status === 'stopped' && (
        <div className="jp-MlflowGroups-muted">Stopped: its endpoint answers again after Start.</div>
      )}
      {deployment.invocations_url ? (
        <Invocations
          group={deployment.group}
          deployment={deployment.name}
          path={deployment.invocations_url}
        />
      ) : (
        <div className="jp-MlflowGroups-muted">No endpoint on this server</div>
      )}
      <DeploymentActions deployment={deployment} onChanged={props.onChanged} />
    </li>
  );
}
