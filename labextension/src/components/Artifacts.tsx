/**
 * A run's artifacts under "Source run": the tree, loaded one directory level at a time, and
 * the preview of the file chosen (Previewed.tsx). Files without a preview show their size and
 * the run's page in the MLflow UI.
 */
import React, { useEffect, useState } from 'react';

import { api } from '../api';
import { formatBytes } from '../format';
import { loadedOnShow } from '../lazy';
import { IArtifactEntry, IArtifactListing } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';
import { MlflowUiLink } from './MlflowUiLink';
import { ProblemNotice } from './Problem';

/** What shows a file's content (and its parsers) is loaded when a file is first previewed. */
const Previewed = loadedOnShow(
  () => import(/* webpackChunkName: "preview" */ './Previewed'),
  'Previewed',
  <Loading label="Loading the preview…" />
);

export interface IArtifactsProps {
  group: string;
  runId: string;
  reload: number;
}

export function Artifacts(props: IArtifactsProps): JSX.Element {
  const [selected, setSelected] = useState<IArtifactEntry | null>(null);
  const [uiUrl, setUiUrl] = useState<string | null>(null);
  useEffect(() => setSelected(null), [props.group, props.runId]);
  return (
    <div className="jp-MlflowGroups-artifacts">
      <ArtifactLevel
        {...props}
        path=""
        selected={selected?.path ?? null}
        onSelect={setSelected}
        onListed={listing => setUiUrl(listing.ui_url)}
      />
      {selected && (
        <ArtifactPreview
          group={props.group}
          runId={props.runId}
          entry={selected}
          uiUrl={uiUrl}
        />
      )}
    </div>
  );
}

interface ILevelProps extends IArtifactsProps {
  path: string;
  selected: string | null;
  onSelect: (entry: IArtifactEntry) => void;
  onListed?: (listing: IArtifactListing) => void;
}

/** One directory's entries; a directory expands into its own level, read when opened. */
function ArtifactLevel(props: ILevelProps): JSX.Element {
  const { group, runId, path, reload } = props;
  const listing = useRequest(
    fresh =>
      api.artifacts(group, runId, path, fresh).then(answer => {
        props.onListed?.(answer);
        return answer;
      }),
    JSON.stringify([group, runId, path]),
    reload
  );
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (entry: IArtifactEntry) =>
    setOpen(previous => {
      const next = new Set(previous);
      if (!next.delete(entry.path)) {
        next.add(entry.path);
      }
      return next;
    });
  if (listing.problem) {
    return <ProblemNotice problem={listing.problem} />;
  }
  if (!listing.data) {
    return <Loading label="Listing the artifacts…" />;
  }
  const files = listing.data.files;
  if (files.length === 0) {
    return (
      <p className="jp-MlflowGroups-empty">
        {path ? 'This directory is empty.' : 'This run logged no artifacts.'}
      </p>
    );
  }
  return (
    <ul className="jp-MlflowGroups-artifactTree">
      {files.map(entry => (
        <li key={entry.path}>
          {entry.is_dir ? (
            <button
              className="jp-MlflowGroups-artifact jp-mod-dir"
              aria-expanded={open.has(entry.path)}
              onClick={() => toggle(entry)}
            >
              <span aria-hidden="true">{open.has(entry.path) ? '▾' : '▸'}</span> {entry.name}/
            </button>
          ) : (
            <button
              className={
                'jp-MlflowGroups-artifact' +
                (props.selected === entry.path ? ' jp-mod-selected' : '')
              }
              aria-pressed={props.selected === entry.path}
              title={entry.preview ? `Preview ${entry.path}` : `${entry.path}: no preview`}
              onClick={() => props.onSelect(entry)}
            >
              <span className="jp-MlflowGroups-artifactName">{entry.name}</span>
              <span className="jp-MlflowGroups-muted">
                {' '}
                {entry.file_size === null ? '' : formatBytes(entry.file_size)}
              </span>
            </button>
          )}
          {entry.is_dir && open.has(entry.path) && (
            <ArtifactLevel {...props} path={entry.path} onListed={undefined} />
          )}
        </li>
      ))}
    </ul>
  );
}

interface IPreviewProps {
  group: string;
  runId: string;
  entry: IArtifactEntry;
  uiUrl: string | null;
}

/** The chosen file, fetched when chosen (nothing is fetched for what has no preview). */
function ArtifactPreview(props: IPreviewProps): JSX.Element {
  const { group, runId, entry } = props;
  const size = entry.file_size === null ? '' : formatBytes(entry.file_size);
  return (
    <section
      className="jp-MlflowGroups-artifactPreview"
      aria-label={`Preview of ${entry.path}`}
    >
      <div className="jp-MlflowGroups-artifactPreviewTitle">
        {entry.path} <span className="jp-MlflowGroups-muted">{size}</span>
      </div>
      {entry.preview ? (
        <Previewed group={group} runId={runId} entry={entry} />
      ) : (
        <p className="jp-MlflowGroups-empty">
          No preview for this kind of file.{' '}
          {props.uiUrl && (
            <MlflowUiLink href={props.uiUrl}>Open the run in MLflow UI</MlflowUiLink>
          )}
        </p>
      )}
    </section>
  );
}
