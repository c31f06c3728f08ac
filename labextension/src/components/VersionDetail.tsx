/**
 * Everything about one version: its aliases (set, moved and removed here, by the group's
 * policy), Deploy and its MLflow UI page, the deployments serving it, how to load it, its
 * signature, its source run and its artifacts (with previews), metrics with their history, parameters and tags.
 */
import { Notification } from '@jupyterlab/apputils';
import { Button } from '@jupyterlab/ui-components';
import React from 'react';

import { requestSummary, writeAccess } from '../aliases';
import { api } from '../api';
import { editVersion, removeAlias, setAlias } from '../dialogs';
import { formatNumber } from '../format';
import type { IPromoteHooks } from '../promote';
import { IAliasRecord, IGroup, IVersion } from '../types';
import { useRequest } from '../useRequest';
import { Artifacts } from './Artifacts';
import { Chips } from './Chips';
import { CodeBlock } from './CodeBlock';
import { Deployments } from './Deployments';
import { Heading } from './Heading';
import { KeyValueTable } from './KeyValueTable';
import { Loading } from './Loading';
import { MetricChart } from './MetricChart';
import { MlflowUiLink } from './MlflowUiLink';
import { ProblemNotice } from './Problem';
import { Signature } from './Signature';
import { Time } from './Time';

export interface IVersionDetailProps {
  group: string;
  name: string;
  version: string;
  reload: number;
  onBack: () => void;
  /** A deployment serving it changed. */
  onChanged: () => void;
  onDeploy: () => void;
  /** Puts code into the active notebook cell; false when there is none. */
  onInsert: (code: string) => boolean;
  /** The group (its registry policy, whether the user is its admin). */
  binding: IGroup | undefined;
  /** The group's pending requests (those of this model show here). */
  pending: IAliasRecord[];
  /** An alias or an edit changed the registry, or a request was made. */
  onRegistryChanged: () => void;
  onShowRequests: () => void;
}

/** What loading the version takes, as Python (a JSON string is a valid Python string). */
export function loadingCode(version: IVersion): string {
  return `import mlflow\n\nmodel = mlflow.pyfunc.load_model(${JSON.stringify(
    version.model_uri
  )})`;
}

export function VersionDetail(props: IVersionDetailProps): JSX.Element {
  const { group, name, version, reload } = props;
  const detail = useRequest(
    fresh => api.version(group, name, version, fresh),
    JSON.stringify([group, name, version]),
    reload
  );
  return (
    <div className="jp-MlflowGroups-version">
      <Heading title={`${name} v${version}`} back={{ label: name, onClick: props.onBack }} />
      {detail.problem && <ProblemNotice problem={detail.problem} />}
      {detail.loading && !detail.data && <Loading label="Loading the version…" />}
      {detail.data && <VersionBody {...props} version={detail.data} />}
    </div>
  );
}

function VersionBody(
  props: Omit<IVersionDetailProps, 'version'> & { version: IVersion }
): JSX.Element {
  const { version, group, reload } = props;
  const run = version.run;
  const code = loadingCode(version);
  const insert = () => {
    if (!props.onInsert(code)) {
      Notification.warning('Open a notebook and select a cell to insert the code into.', {
        autoClose: 5000
      });
    }
  };
  const tags = { ...version.tags, ...(run?.tags ?? {}) };
  const access = writeAccess(props.binding);
  const binding = props.binding;
  const hooks: IPromoteHooks = {
    onChanged: props.onRegistryChanged,
    onShowRequests: props.onShowRequests
  };
  const waiting = props.pending.filter(
    record =>
      record.model === version.name &&
      (record.version === version.version || version.aliases.includes(record.alias))
  );
  return (
    <>
      <dl className="jp-MlflowGroups-facts">
        <dt>Status</dt>
        <dd>{version.status ?? '—'}</dd>
        <dt>Registered</dt>
        <dd>
          <Time iso={version.registered_at} />
        </dd>
        <dt>Aliases</dt>
        <dd>
          <Chips
            names={version.aliases}
            kind="alias"
            removal={
              binding && access.allowed
                ? { onRemove: alias => void removeAlias(binding, version.name, alias, hooks) }
                : undefined
            }
          />
          {version.aliases.length === 0 && '—'}
          {waiting.length > 0 && (
            <ul className="jp-MlflowGroups-waiting">
              {waiting.map(record => (
                <li key={record.id}>
                  <span className="jp-MlflowGroups-status jp-mod-pending">pending</span>{' '}
                  {requestSummary(record)}, asked by {record.requested_by}: waits for a group
                  admin.{' '}
                  <button className="jp-MlflowGroups-linkButton" onClick={props.onShowRequests}>
                    Requests
                  </button>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Deployed by</dt>
        <dd>
          <Chips names={version.deployed_by} kind="deployment" />
          {version.deployed_by.length === 0 && '—'}
        </dd>
      </dl>
      {version.description && (
        <p className="jp-MlflowGroups-description">{version.description}</p>
      )}
      <div className="jp-MlflowGroups-actions">
        {version.ui_url && (
          <MlflowUiLink href={version.ui_url}>Open in MLflow UI</MlflowUiLink>
        )}
        <Button small onClick={props.onDeploy}>
          Deploy…
        </Button>
        {binding && (
          <>
            <Button
              small
              disabled={!access.allowed}
              title={access.why || 'Point an alias at this version (or ask an admin to)'}
              onClick={() => void setAlias(binding, version.name, version.version, hooks)}
            >
              Set alias…
            </Button>
            <Button
              small
              disabled={!access.allowed}
              title={access.why || "Edit this version's description and tags"}
              onClick={() => void editVersion(binding, version, hooks)}
            >
              Edit…
            </Button>
          </>
        )}
      </div>
      {!access.allowed && (
        <p className="jp-MlflowGroups-muted jp-MlflowGroups-readOnly">{access.why}</p>
      )}

      {version.deployed_by.length > 0 && (
        <section aria-labelledby="jp-MlflowGroups-servedTitle">
          <h3 id="jp-MlflowGroups-servedTitle">Deployments serving it</h3>
          <Deployments
            group={group}
            reload={reload}
            onChanged={props.onChanged}
            only={version.deployed_by}
          />
        </section>
      )}

      <section aria-labelledby="jp-MlflowGroups-loadTitle">
        <h3 id="jp-MlflowGroups-loadTitle">Load it in a notebook</h3>
        <CodeBlock code={code} what="the code that loads this version">
          <Button small onClick={insert} title="Insert at the cursor of the active notebook cell">
            Insert into notebook
          </Button>
        </CodeBlock>
      </section>

      <section aria-labelledby="jp-MlflowGroups-signatureTitle">
        <h3 id="jp-MlflowGroups-signatureTitle">Signature</h3>
        <Signature signature={version.signature} />
      </section>

      <section aria-labelledby="jp-MlflowGroups-runTitle">
        <h3 id="jp-MlflowGroups-runTitle">Source run</h3>
        {!run && <p className="jp-MlflowGroups-empty">This version has no source run.</p>}
        {run?.missing && <p className="jp-MlflowGroups-empty">{run.message}</p>}
        {run && !run.missing && (
          <p className="jp-MlflowGroups-run">
            {run.ui_url ? (
              <MlflowUiLink href={run.ui_url}>{run.run_name || run.run_id}</MlflowUiLink>
            ) : (
              run.run_name || run.run_id
            )}
            <span className="jp-MlflowGroups-muted">
              {' '}
              {run.status?.toLowerCase()} · started <Time iso={run.start_time} />
            </span>
          </p>
        )}
      </section>

      {run && !run.missing && (
        <section aria-labelledby="jp-MlflowGroups-artifactsTitle">
          <h3 id="jp-MlflowGroups-artifactsTitle">Artifacts</h3>
          <Artifacts group={group} runId={run.run_id} reload={reload} />
        </section>
      )}

      {run && !run.missing && (
        <section aria-labelledby="jp-MlflowGroups-metricsTitle">
          <h3 id="jp-MlflowGroups-metricsTitle">Metrics</h3>
          {Object.keys(run.metrics ?? {}).length === 0 ? (
            <p className="jp-MlflowGroups-empty">No metrics logged.</p>
          ) : (
            <ul className="jp-MlflowGroups-metrics">
              {Object.entries(run.metrics ?? {}).map(([key, metric]) => (
                <li key={key} className="jp-MlflowGroups-metric">
                  <div className="jp-MlflowGroups-metricHead">
                    <span className="jp-MlflowGroups-metricName">{key}</span>
                    <span className="jp-MlflowGroups-metricValue">
                      {formatNumber(metric.value)}
                    </span>
                  </div>
                  <MetricChart group={group} runId={run.run_id} metric={key} reload={reload} />
                </li>
              ))}
            </ul>
          )}
        </section>
      )}

      {run && !run.missing && (
        <section aria-labelledby="jp-MlflowGroups-paramsTitle">
          <h3 id="jp-MlflowGroups-paramsTitle">Parameters</h3>
          <KeyValueTable values={run.params ?? {}} empty="No parameters logged." />
        </section>
      )}

      <section aria-labelledby="jp-MlflowGroups-tagsTitle">
        <h3 id="jp-MlflowGroups-tagsTitle">Tags</h3>
        <KeyValueTable values={tags} empty="No tags." />
      </section>
    </>
  );
}
