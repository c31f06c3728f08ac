/**
 * The group's deployments (or only some: those serving a version), each with its endpoint and
 * actions.
 */
import React, { useEffect, useState } from 'react';

import { api } from '../api';
import { useRequest } from '../useRequest';
import { DeploymentCard } from './DeploymentCard';
import { Loading } from './Loading';
import { ProblemNotice } from './Problem';

export interface IDeploymentsProps {
  group: string;
  reload: number;
  onChanged: () => void;
  /** Only these deployments (by name), without the group's target and empty note. */
  only?: string[];
}

/** How soon deployments on their way (deploying, starting) are read again. */
const SETTLING_MS = 1000;

export function Deployments(props: IDeploymentsProps): JSX.Element {
  const { group, reload, only } = props;
  // both only grow: their sum changes whenever either does
  const [settled, setSettled] = useState(0);
  const deployments = useRequest(() => api.deployments(group), group, reload + settled);
  const shown = (deployments.data?.deployments ?? []).filter(
    deployment => !only || only.includes(deployment.name)
  );
  const settling = shown.some(
    deployment => deployment.status === 'deploying' || deployment.status === 'starting'
  );
  useEffect(() => {
    if (!settling || deployments.loading) {
      return;
    }
    const timer = window.setTimeout(() => setSettled(count => count + 1), SETTLING_MS);
    return () => window.clearTimeout(timer);
  }, [settling, deployments.loading]);
  return (
    <div className="jp-MlflowGroups-deployments">
      {deployments.problem && <ProblemNotice problem={deployments.problem} />}
      {deployments.loading && !deployments.data && <Loading label="Loading deployments…" />}
      {deployments.data && !only && (
        <p className="jp-MlflowGroups-muted">
          Served by the <code>{deployments.data.target}</code> target.
        </p>
      )}
      {deployments.data && shown.length === 0 && !only && (
        <p className="jp-MlflowGroups-empty">
          No deployments yet: open a model, then Deploy on one of its versions.
        </p>
      )}
      {shown.length > 0 && (
        <ul className="jp-MlflowGroups-deploymentList" aria-busy={deployments.loading}>
          {shown.map(deployment => (
            <DeploymentCard
              key={deployment.name}
              deployment={deployment}
              onChanged={props.onChanged}
            />
          ))}
        </ul>
      )}
    </div>
  );
}
