/**
 * The content of an artifact's preview, fetched when the file is chosen: an image from a blob
 * URL fetched through the API with Jupyter's auth; text, pretty-printed JSON, or the first rows
 * of a CSV/TSV as a table.
 */
import React, { useEffect } from 'react';

import { api } from '../api';
import { parseTable, prettyJson } from '../preview';
import { IArtifactEntry, IArtifactPreview } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';
import { ProblemNotice } from './Problem';

const MAX_ROWS = 50;

export function Previewed(props: {
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
