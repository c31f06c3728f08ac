/**
 * Versions of a model side by side, in a main-area tab (the sidebar is too narrow for it):
 * the versions, their metrics with the best marked, parameters, tags and signatures (all or
 * only what differs), and the metrics' histories overlaid on one chart.
 */
import { Button, HTMLSelect, refreshIcon } from '@jupyterlab/ui-components';
import React, { useId, useRef, useState } from 'react';

import { api } from '../api';
import { Chips } from '../components/Chips';
import { Loading } from '../components/Loading';
import { MlflowUiLink } from '../components/MlflowUiLink';
import { AcrossVersionsChart } from '../components/AcrossVersionsChart';
import { HistoryChart } from '../components/HistoryChart';
import { ProblemNotice } from '../components/Problem';
import { Time } from '../components/Time';
import { formatModelSize, formatNumber } from '../format';
import { Direction, IComparison } from '../types';
import { useRequest } from '../useRequest';
import { versionName } from './context';
import {
  IRow,
  directionLabel,
  flipped,
  isBest,
  signatureRows,
  tableRows,
  tagRows,
  withFlipped
} from './rows';

export interface ICompareViewProps {
  group: string;
  model: string;
  /** As asked: numbers or @aliases. */
  versions: string[];
}

export function CompareView(props: ICompareViewProps): JSX.Element {
  const { group, model, versions } = props;
  const [overrides, setOverrides] = useState<Record<string, Direction>>({});
  const [reload, setReload] = useState(0);
  const [differencesOnly, setDifferencesOnly] = useState(false);
  const request = useRequest(
    fresh => api.compare(group, model, versions, overrides, fresh),
    JSON.stringify([group, model, versions, overrides]),
    reload
  );
  // a changed direction is a new question: keep the last answer shown (and the focus on the
  // toggle) until the new one arrives
  const last = useRef<IComparison | null>(null);
  if (request.data) {
    last.current = request.data;
  }
  const comparison = request.data ?? last.current;
  const differencesId = useId();

  return (
    <div className="jp-MlflowGroups-compare" aria-busy={request.loading}>
      <div className="jp-MlflowGroups-compareBar">
        <h2>
          Compare {model} {versions.map(versionName).join(', ')}
        </h2>
        <span className="jp-MlflowGroups-compareGroup">group {group}</span>
        <label className="jp-MlflowGroups-toggle" htmlFor={differencesId}>
          <input
            id={differencesId}
            type="checkbox"
            checked={differencesOnly}
            onChange={event => setDifferencesOnly(event.currentTarget.checked)}
          />
          Differences only
        </label>
        <Button
          small
          onClick={() => setReload(value => value + 1)}
          title="Ask MLflow again, bypassing the server's short cache"
        >
          <refreshIcon.react tag="span" className="jp-MlflowGroups-buttonIcon" />
          Refresh
        </Button>
      </div>
      {request.problem && <ProblemNotice problem={request.problem} />}
      {request.loading && !comparison && <Loading label="Comparing the versions…" />}
      {comparison && (
        <CompareBody
          comparison={comparison}
          differencesOnly={differencesOnly}
          reload={reload}
          onFlip={metric => setOverrides(withFlipped(overrides, comparison, metric))}
        />
      )}
    </div>
  );
}

interface ICompareBodyProps {
  comparison: IComparison;
  differencesOnly: boolean;
  reload: number;
  onFlip: (metric: string) => void;
}

function CompareBody(props: ICompareBodyProps): JSX.Element {
  const { comparison, differencesOnly } = props;
  const columns = comparison.versions.map(version => version.version);
  const { params, differences } = comparison;
  return (
    <>
      <Section title="Versions">
        <VersionsTable comparison={comparison} />
      </Section>
      <Section title="Metrics">
        <MetricsTable {...props} columns={columns} />
      </Section>
      <Section title="Parameters">
        <ValuesTable
          what="Parameter"
          columns={columns}
          rows={tableRows(params, columns, differences.params, differencesOnly)}
          empty={differencesOnly ? 'No parameter differs.' : 'No parameters logged.'}
        />
      </Section>
      <Section title="Tags">
        <ValuesTable
          what="Tag"
          columns={columns}
          rows={tagRows(comparison, columns, differencesOnly).map(row => ({
            ...row,
            note: row.kind === 'run' ? 'run' : 'version'
          }))}
          empty={differencesOnly ? 'No tag differs.' : 'No tags.'}
        />
      </Section>
      <Section title="Signature">
        <ValuesTable
          what="Signature"
          columns={columns}
          rows={signatureRows(comparison, columns, differencesOnly)}
          empty="The same signature in every version."
        />
      </Section>
      <Section title="Metric history">
        <Histories comparison={comparison} reload={props.reload} />
      </Section>
      <Section title="Across all versions">
        <Across comparison={comparison} reload={props.reload} />
      </Section>
    </>
  );
}

/** One metric in every version of the model, not only those compared (x = version). */
function Across(props: { comparison: IComparison; reload: number }): JSX.Element {
  const { comparison } = props;
  const metrics = Object.keys(comparison.metrics).sort();
  const [chosen, setChosen] = useState<string | null>(null);
  const metric = chosen && metrics.includes(chosen) ? chosen : metrics[0] ?? null;
  if (!metric) {
    return <p className="jp-MlflowGroups-empty">No metrics logged.</p>;
  }
  return (
    <>
      <MetricPicker metrics={metrics} value={metric} onChange={setChosen} />
      <AcrossVersionsChart
        group={comparison.group}
        model={comparison.name}
        metric={metric}
        reload={props.reload}
      />
    </>
  );
}

/** Which metric a chart of the tab draws. */
function MetricPicker(props: {
  metrics: string[];
  value: string;
  onChange: (metric: string) => void;
}): JSX.Element {
  const id = useId();
  return (
    <div className="jp-MlflowGroups-overlayControls">
      <label htmlFor={id}>Metric</label>
      <HTMLSelect
        id={id}
        value={props.value}
        onChange={event => props.onChange(event.currentTarget.value)}
        options={props.metrics}
      />
    </div>
  );
}

function Section(props: { title: string; children: React.ReactNode }): JSX.Element {
  const id = useId();
  return (
    <section className="jp-MlflowGroups-compareSection" aria-labelledby={id}>
      <h3 id={id}>{props.title}</h3>
      {props.children}
    </section>
  );
}

/** A row per version: its number, aliases, when it was registered, its source run, and how
 * big its model is. */
function VersionsTable(props: { comparison: IComparison }): JSX.Element {
  return (
    <table className="jp-MlflowGroups-compareTable jp-mod-versions">
      <thead>
        <tr>
          {['Version', 'Aliases', 'Registered', 'Source run', 'Model size'].map(column => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.comparison.versions.map(version => {
          const run = version.run;
          return (
            <tr key={version.version} data-version={version.version}>
              <th scope="row">
                {version.ui_url ? (
                  <MlflowUiLink href={version.ui_url}>v{version.version}</MlflowUiLink>
                ) : (
                  `v${version.version}`
                )}
              </th>
              <td>
                <Chips names={version.aliases} kind="alias" />
                {version.aliases.length === 0 && '—'}
              </td>
              <td>
                <Time iso={version.registered_at} />
              </td>
              <td>
                {!run && '—'}
                {run?.missing && <span className="jp-MlflowGroups-muted">run not found</span>}
                {run && !run.missing && run.ui_url && (
                  <MlflowUiLink href={run.ui_url}>{run.run_name || run.run_id}</MlflowUiLink>
                )}
                {run && !run.missing && !run.ui_url && (run.run_name || run.run_id)}
              </td>
              <td>{formatModelSize(props.comparison.sizes[version.version])}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function VersionHeads(props: { first: string; columns: string[] }): JSX.Element {
  return (
    <thead>
      <tr>
        <th scope="col">{props.first}</th>
        {props.columns.map(version => (
          <th key={version} scope="col">
            v{version}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** Each metric's latest value per version, the best marked, the direction switchable. */
function MetricsTable(props: ICompareBodyProps & { columns: string[] }): JSX.Element {
  const { comparison, columns, differencesOnly } = props;
  const bestId = useId();
  const rows = tableRows(
    comparison.metrics,
    columns,
    comparison.differences.metrics,
    differencesOnly
  );
  if (rows.length === 0) {
    return (
      <p className="jp-MlflowGroups-empty">
        {differencesOnly ? 'No metric differs.' : 'No metrics logged.'}
      </p>
    );
  }
  return (
    <table className="jp-MlflowGroups-compareTable jp-mod-metrics">
      <VersionHeads first="Metric" columns={columns} />
      <tbody>
        {rows.map(row => {
          const direction = comparison.directions[row.key] ?? 'max';
          return (
            <tr key={row.key} data-key={row.key} className={row.differs ? 'jp-mod-differs' : ''}>
              <th scope="row">
                <span className="jp-MlflowGroups-compareKey">{row.key}</span>
                <button
                  className="jp-MlflowGroups-direction"
                  data-direction={direction}
                  onClick={() => props.onFlip(row.key)}
                  title={switchHint(direction)}
                >
                  {directionLabel(direction)}
                </button>
              </th>
              {row.values.map((value, index) => {
                const best = isBest(comparison, row.key, columns[index]);
                return (
                  <td
                    key={columns[index]}
                    data-version={columns[index]}
                    className={best ? 'jp-mod-best' : undefined}
                    aria-describedby={best ? bestId : undefined}
                  >
                    {value === null ? '—' : formatNumber(value)}
                    {best && (
                      <span className="jp-MlflowGroups-star" aria-hidden="true">
                        {' '}
                        ★
                      </span>
                    )}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
      <caption className="jp-MlflowGroups-compareCaption">
        <span aria-hidden="true">★</span> <span id={bestId}>best</span> by the metric's direction
        (among versions that logged it)
      </caption>
    </table>
  );
}

/** What pressing a metric's direction does. */
function switchHint(direction: Direction): string {
  const now = direction === 'max' ? 'highest' : 'lowest';
  return `Best is the ${now} value; press for ${directionLabel(flipped(direction)).slice(2)}`;
}

function ValuesTable(props: {
  what: string;
  columns: string[];
  rows: (IRow<string> & { note?: string })[];
  empty: string;
}): JSX.Element {
  if (props.rows.length === 0) {
    return <p className="jp-MlflowGroups-empty">{props.empty}</p>;
  }
  return (
    <table className="jp-MlflowGroups-compareTable">
      <VersionHeads first={props.what} columns={props.columns} />
      <tbody>
        {props.rows.map(row => (
          <tr
            key={`${row.note ?? ''}:${row.key}`}
            data-key={row.key}
            className={row.differs ? 'jp-mod-differs' : ''}
          >
            <th scope="row">
              <span className="jp-MlflowGroups-compareKey">{row.key}</span>
              {row.note && <span className="jp-MlflowGroups-muted"> ({row.note})</span>}
            </th>
            {row.values.map((value, index) => (
              <td key={props.columns[index]} data-version={props.columns[index]}>
                {value ?? '—'}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The chosen metric's histories; the first metric that differs to begin with. */
function Histories(props: { comparison: IComparison; reload: number }): JSX.Element {
  const { comparison } = props;
  const metrics = Object.keys(comparison.metrics).sort();
  const [chosen, setChosen] = useState<string | null>(null);
  const metric =
    chosen && metrics.includes(chosen)
      ? chosen
      : comparison.differences.metrics[0] ?? metrics[0] ?? null;
  if (!metric) {
    return <p className="jp-MlflowGroups-empty">No metrics logged.</p>;
  }
  return (
    <>
      <MetricPicker metrics={metrics} value={metric} onChange={setChosen} />
      <HistoryChart
        group={comparison.group}
        metric={metric}
        reload={props.reload}
        sources={comparison.versions.map(version => ({
          id: version.version,
          label: `v${version.version}`,
          runId: version.run && !version.run.missing ? version.run.run_id : null
        }))}
      />
    </>
  );
}
