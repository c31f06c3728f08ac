/**
 * A model's versions, newest first: Version, Registered At, Aliases, Deployed By, Deploy; a
 * box per version picks those to compare in a tab.
 */
import { Button } from '@jupyterlab/ui-components';
import React, { useContext, useState } from 'react';

import { api } from '../api';
import { MAX_COMPARED, OpenCompare } from '../compare/context';
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
  const openCompare = useContext(OpenCompare);
  // kept across pages of versions: versions of several pages can be compared
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const pick = (version: string, on: boolean) =>
    setPicked(previous => {
      const next = new Set(previous);
      if (on) {
        next.add(version);
      } else {
        next.delete(version);
      }
      return next;
    });
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
            picked={openCompare ? picked : null}
            onPick={pick}
            onOpenVersion={props.onOpenVersion}
            onDeploy={props.onDeploy}
          />
        ))}
      {openCompare && model.data && model.data.versions.length > 1 && (
        <CompareBar
          picked={picked}
          onCompare={() => openCompare({ group, model: name, versions: [...picked] })}
        />
      )}
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

/** How many versions are picked, and Compare once they are 2 to MAX_COMPARED. */
function CompareBar(props: { picked: ReadonlySet<string>; onCompare: () => void }): JSX.Element {
  const count = props.picked.size;
  const ready = count >= 2 && count <= MAX_COMPARED;
  const note =
    count > MAX_COMPARED
      ? `${count} picked: compare at most ${MAX_COMPARED}.`
      : count < 2
        ? `Pick 2 to ${MAX_COMPARED} versions to compare.`
        : `${count} versions picked.`;
  return (
    <div className="jp-MlflowGroups-pickBar">
      <span className="jp-MlflowGroups-muted" role="status">
        {note}
      </span>
      <Button
        small
        disabled={!ready}
        onClick={props.onCompare}
        title="Compare the picked versions side by side in a tab"
      >
        Compare
      </Button>
    </div>
  );
}

const COLUMNS = ['Version', 'Registered At', 'Aliases', 'Deployed By', 'Deploy'];

/** A table when the panel is wide; a card per version when it is narrow (see base.css). */
function VersionsTable(props: {
  versions: IVersionRow[];
  busy: boolean;
  /** The versions picked to compare; null where comparing is not offered. */
  picked: ReadonlySet<string> | null;
  onPick: (version: string, on: boolean) => void;
  onOpenVersion: (version: string) => void;
  onDeploy: (version: string) => void;
}): JSX.Element {
  const { picked } = props;
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
              {picked && (
                <input
                  type="checkbox"
                  className="jp-MlflowGroups-pick"
                  checked={picked.has(row.version)}
                  onChange={event => props.onPick(row.version, event.currentTarget.checked)}
                  aria-label={`Compare version ${row.version}`}
                />
              )}
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
