/**
 * The group's deployments: name, model, version, status, endpoint.
 */
import React from 'react';

import { api } from '../api';
import { formatTime } from '../format';
import { IDeployment } from '../types';
import { useRequest } from '../useRequest';
import { Invocations } from './Invocations';
import { Loading } from './Loading';
import { ProblemNotice } from './Problem';

export function Deployments(props: { group: string; reload: number }): JSX.Element {
  const { group, reload } = props;
  const deployments = useRequest(() => api.deployments(group), group, reload);
  return (
    <div className="jp-MlflowGroups-deployments">
      {deployments.problem && <ProblemNotice problem={deployments.problem} />}
      {deployments.loading && !deployments.data && <Loading label="Loading deployments…" />}
      {deployments.data && (
        <>
          <p className="jp-MlflowGroups-muted">
            Served by the <code>{deployments.data.target}</code> target.
          </p>
          {deployments.data.deployments.length === 0 ? (
            <p className="jp-MlflowGroups-empty">
              No deployments yet: open a model, then Deploy on one of its versions.
            </p>
          ) : (
            <ul className="jp-MlflowGroups-deploymentList" aria-busy={deployments.loading}>
              {deployments.data.deployments.map(deployment => (
                <DeploymentRow key={deployment.name} deployment={deployment} />
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

function DeploymentRow(props: { deployment: IDeployment }): JSX.Element {
  const { deployment } = props;
  const version = deployment.requested.startsWith('@')
    ? `v${deployment.version} (${deployment.requested})`
    : `v${deployment.version}`;
  return (
    <li className="jp-MlflowGroups-deployment" data-name={deployment.name}>
      <div className="jp-MlflowGroups-deploymentHead">
        <span className="jp-MlflowGroups-deploymentName">{deployment.name}</span>
        <span
          className={`jp-MlflowGroups-status jp-mod-${deployment.status}`}
          title={deployment.message ?? undefined}
        >
          {deployment.status}
        </span>
      </div>
      <div>
        {deployment.model} {version}
        {deployment.updated_at && (
          <span className="jp-MlflowGroups-muted">
            {' '}
            · {formatTime(deployment.updated_at)}
            {deployment.updated_by && ` by ${deployment.updated_by}`}
          </span>
        )}
      </div>
      {deployment.invocations_url ? (
        <Invocations
          group={deployment.group}
          deployment={deployment.name}
          path={deployment.invocations_url}
        />
      ) : (
        <div className="jp-MlflowGroups-muted">No endpoint</div>
      )}
    </li>
  );
}
