/**
 * A run's artifacts under "Source run": the tree, loaded one directory level at a time, and
 * the preview of the file chosen (an image from a blob URL fetched through the API with
 * Jupyter's auth; text, pretty-printed JSON, or the first rows of a CSV/TSV as a table). Files
 * without a preview show their size and the run's page in the MLflow UI.
 */
import React, { useEffect, useState } from 'react';

import { api } from '../api';
import { formatBytes } from '../format';
import { parseTable, prettyJson } from '../preview';
import { IArtifactEntry, IArtifactListing, IArtifactPreview } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';
import { MlflowUiLink } from './MlflowUiLink';
import { ProblemNotice } from './Problem';

const MAX_ROWS = 50;

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

function Previewed(props: {
  group: string;
  runId: string;
  entry: IArtifactEntry;
}): JSX.Element {
  const { group, runId, entry } = props;
  const preview = useRequest(
    () => api.artifact(group, runId, entry.path).then(shown),
    JSON.stringify([group, runId, entry.path])
  );
  const url = preview.data?.url;
  useEffect(
    () => () => {
      if (url) {
        URL.revokeObjectURL(url);
      }
    },
    [url]
  );
  if (preview.problem) {
    return <ProblemNotice problem={preview.problem} />;
  }
  if (!preview.data) {
    return <Loading label="Loading the preview…" />;
  }
  const { kind, text } = preview.data;
  if (url) {
    return <img className="jp-MlflowGroups-artifactImage" src={url} alt={entry.path} />;
  }
  if (kind === 'csv' || kind === 'tsv') {
    const table = parseTable(text, kind === 'tsv' ? '\t' : ',', MAX_ROWS);
    return (
      <div className="jp-MlflowGroups-artifactText">
        <table className="jp-MlflowGroups-artifactTable">
          <thead>
            <tr>
              {table.header.map((cell, i) => (
                <th key={i}>{cell}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, r) => (
              <tr key={r}>
                {row.map((cell, i) => (
                  <td key={i}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {table.total > table.rows.length && (
          <p className="jp-MlflowGroups-muted">
            First {table.rows.length} of {table.total} rows.
          </p>
        )}
      </div>
    );
  }
  return (
    <pre className="jp-MlflowGroups-artifactText" tabIndex={0}>
      {kind === 'json' ? prettyJson(text) : text}
    </pre>
  );
}

/** An image as a blob URL (revoked when no longer shown); text decoded. */
async function shown(
  preview: IArtifactPreview
): Promise<{ kind: IArtifactPreview['kind']; url: string | null; text: string }> {
  if (preview.kind === 'image') {
    return { kind: preview.kind, url: URL.createObjectURL(preview.blob), text: '' };
  }
  return { kind: preview.kind, url: null, text: await preview.blob.text() };
}
