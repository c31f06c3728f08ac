/**
 * A model's versions, newest first: Version, Registered At, Aliases, Deployed By, Deploy.
 */
import { Button } from '@jupyterlab/ui-components';
import React from 'react';

import { api } from '../api';
import { IVersionRow } from '../types';
import { useRequest } from '../useRequest';
import { Chips } from './Chips';
import { Heading } from './Heading';
import { Loading } from './Loading';
import { MlflowUiLink } from './MlflowUiLink';
import { Pager, usePages } from './Pager';
import { ProblemNotice } from './Problem';
import { Time } from './Time';

export interface IModelVersionsProps {
  group: string;
  name: string;
  reload: number;
  onBack: () => void;
  onOpenVersion: (version: string) => void;
  onDeploy: (version: string) => void;
}

export function ModelVersions(props: IModelVersionsProps): JSX.Element {
  const { group, name, reload } = props;
  const pages = usePages();
  const model = useRequest(
    fresh => api.model(group, name, { pageToken: pages.token, refresh: fresh }),
    JSON.stringify([group, name, pages.token]),
    reload
  );
  return (
    <div className="jp-MlflowGroups-model">
      <Heading title={name} back={{ label: 'Models', onClick: props.onBack }}>
        {model.data?.description && (
          <p className="jp-MlflowGroups-description">{model.data.description}</p>
        )}
        {model.data?.ui_url && (
          <MlflowUiLink href={model.data.ui_url}>Open in MLflow UI</MlflowUiLink>
        )}
      </Heading>
      {model.problem && <ProblemNotice problem={model.problem} />}
      {model.loading && !model.data && <Loading label="Loading versions…" />}
      {model.data &&
        (model.data.versions.length === 0 ? (
          <p className="jp-MlflowGroups-empty">This model has no versions yet.</p>
        ) : (
          <VersionsTable
            versions={model.data.versions}
            busy={model.loading}
            onOpenVersion={props.onOpenVersion}
            onDeploy={props.onDeploy}
          />
        ))}
      {model.data && (
        <Pager
          pages={pages}
          nextToken={model.data.next_page_token}
          label="Pages of versions"
        />
      )}
    </div>
  );
}

const COLUMNS = ['Version', 'Registered At', 'Aliases', 'Deployed By', 'Deploy'];

/** A table when the panel is wide; a card per version when it is narrow (see base.css). */
function VersionsTable(props: {
  versions: IVersionRow[];
  busy: boolean;
  onOpenVersion: (version: string) => void;
  onDeploy: (version: string) => void;
}): JSX.Element {
  return (
    <table className="jp-MlflowGroups-versions" aria-busy={props.busy}>
      <thead>
        <tr>
          {COLUMNS.map(column => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.versions.map(row => (
          <tr key={row.version} data-version={row.version}>
            <td className="jp-mod-version">
              <button
                className="jp-MlflowGroups-linkButton"
                onClick={() => props.onOpenVersion(row.version)}
                title={`Details of version ${row.version}`}
              >
                v{row.version}
              </button>
            </td>
            <td className="jp-mod-registered" data-label="Registered">
              <Time iso={row.registered_at} ago />
            </td>
            <td className="jp-mod-aliases" data-label="Aliases">
              <Chips names={row.aliases} kind="alias" />
            </td>
            <td className="jp-mod-deployed" data-label="Deployed by">
              <Chips names={row.deployed_by} kind="deployment" />
            </td>
            <td className="jp-mod-deploy">
              <Button
                small
                onClick={() => props.onDeploy(row.version)}
                title={`Deploy version ${row.version}`}
              >
                Deploy
              </Button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
