/**
 * One metric's histories, one line per version, on one chart (SVG drawn here, coloured by the
 * theme): a legend whose entries show and hide lines, and the x axis by step or, when MLflow
 * kept the moments, by wall time or time since each run's first value.
 */
import { HTMLSelect } from '@jupyterlab/ui-components';
import React, { useId, useState } from 'react';

import { api, asProblem } from '../api';
import { IOverlay, ISeries, XAxis, hasTimestamps, overlay } from '../compare/overlay';
import { seriesLook } from '../compare/series';
import { formatNumber } from '../format';
import { IMetricPoint, IProblem } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';

/** A version to draw: its id (the version number), its name, and the run holding its history. */
export interface IOverlaySource {
  id: string;
  label: string;
  runId: string | null;
}

export interface IOverlayChartProps {
  group: string;
  metric: string;
  sources: IOverlaySource[];
  reload: number;
}

const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { left: 64, right: 16, top: 12, bottom: 36 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

const AXES: { value: XAxis; label: string }[] = [
  { value: 'step', label: 'Step' },
  { value: 'wall', label: 'Wall time' },
  { value: 'relative', label: 'Relative time' }
];

type Histories = Record<string, IMetricPoint[] | IProblem>;

/** Each run's history once (versions may share a run); a run without the metric is a problem
 * of its own line, not of the chart. */
async function loadHistories(
  group: string,
  metric: string,
  runIds: string[],
  fresh: boolean
): Promise<Histories> {
  const answers = await Promise.all(
    runIds.map(runId =>
      api.metricHistory(group, runId, metric, fresh).then(
        body => body.history,
        error => asProblem(error)
      )
    )
  );
  return Object.fromEntries(runIds.map((runId, index) => [runId, answers[index]]));
}

export function OverlayChart(props: IOverlayChartProps): JSX.Element {
  const { group, metric, sources, reload } = props;
  const runIds = [...new Set(sources.flatMap(source => (source.runId ? [source.runId] : [])))];
  const histories = useRequest(
    fresh => loadHistories(group, metric, runIds, fresh),
    JSON.stringify([group, metric, runIds]),
    reload
  );
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [axis, setAxis] = useState<XAxis>('step');
  const axisId = useId();

  if (histories.problem) {
    return <p className="jp-MlflowGroups-chartNote">No history: {histories.problem.message}</p>;
  }
  if (!histories.data) {
    return <Loading label={`Loading the history of ${metric}…`} />;
  }
  const data = histories.data;
  const series: ISeries[] = sources.map(source => {
    const history = source.runId ? data[source.runId] : undefined;
    return { id: source.id, points: Array.isArray(history) ? history : [] };
  });
  const timed = hasTimestamps(series);
  const shownAxis = timed ? axis : 'step';
  const drawn = overlay(series, shownAxis, PLOT_WIDTH, PLOT_HEIGHT, hidden);
  const toggle = (id: string) =>
    setHidden(previous => {
      const next = new Set(previous);
      if (!next.delete(id)) {
        next.add(id);
      }
      return next;
    });
  const axisName = AXES.find(option => option.value === shownAxis)!.label.toLowerCase();
  const summary =
    `${metric} by ${axisName}: ` +
    sources
      .map((source, index) => `${source.label} ${series[index].points.length} values`)
      .join(', ');

  return (
    <div className="jp-MlflowGroups-overlay">
      <div className="jp-MlflowGroups-overlayControls">
        <label htmlFor={axisId}>X axis</label>
        <HTMLSelect
          id={axisId}
          value={shownAxis}
          onChange={event => setAxis(event.currentTarget.value as XAxis)}
          options={AXES.filter(option => timed || option.value === 'step')}
        />
      </div>
      <figure className="jp-MlflowGroups-overlayChart" data-metric={metric}>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
          <title>{summary}</title>
          {drawn && (
            <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
              <Axes drawn={drawn} axis={shownAxis} />
              {drawn.series.map((line, index) =>
                line.points ? (
                  <polyline
                    key={line.id}
                    data-series={line.id}
                    className={seriesLook(index).className}
                    strokeDasharray={seriesLook(index).dash}
                    points={line.points}
                  />
                ) : null
              )}
            </g>
          )}
        </svg>
        {!drawn && (
          <figcaption className="jp-MlflowGroups-chartNote">
            {hidden.size > 0 ? 'Every line is hidden.' : 'No values logged.'}
          </figcaption>
        )}
      </figure>
      <ul className="jp-MlflowGroups-legend" aria-label={`Lines of ${metric}`}>
        {sources.map((source, index) => {
          const history = source.runId ? data[source.runId] : undefined;
          const note = !source.runId
            ? 'no source run'
            : Array.isArray(history)
              ? `${history.length} values`
              : history?.message ?? '';
          return (
            <li key={source.id}>
              <button
                className="jp-MlflowGroups-legendEntry"
                aria-pressed={!hidden.has(source.id)}
                title={`${hidden.has(source.id) ? 'Show' : 'Hide'} ${source.label} (${note})`}
                onClick={() => toggle(source.id)}
              >
                <svg className="jp-MlflowGroups-swatch" viewBox="0 0 24 8" aria-hidden="true">
                  <line
                    x1="0"
                    y1="4"
                    x2="24"
                    y2="4"
                    className={seriesLook(index).className}
                    strokeDasharray={seriesLook(index).dash}
                  />
                </svg>
                {source.label}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** How an x value reads on its axis. */
function xText(value: number, axis: XAxis): string {
  if (axis === 'wall') {
    const moment = new Date(value);
    const pad = (part: number) => String(part).padStart(2, '0');
    return `${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}`;
  }
  return axis === 'relative' ? `${formatNumber(value)} s` : formatNumber(value);
}

function Axes(props: { drawn: IOverlay; axis: XAxis }): JSX.Element {
  const { drawn, axis } = props;
  return (
    <g className="jp-MlflowGroups-axes" aria-hidden="true">
      <rect className="jp-MlflowGroups-plotArea" width={PLOT_WIDTH} height={PLOT_HEIGHT} />
      {drawn.y.ticks.map(tick => (
        <g key={`y${tick.value}`}>
          <line className="jp-MlflowGroups-grid" x1={0} x2={PLOT_WIDTH} y1={tick.at} y2={tick.at} />
          <text x={-6} y={tick.at} dy="0.32em" textAnchor="end">
            {formatNumber(tick.value)}
          </text>
        </g>
      ))}
      {drawn.x.ticks.map(tick => (
        <g key={`x${tick.value}`}>
          <line
            className="jp-MlflowGroups-grid"
            x1={tick.at}
            x2={tick.at}
            y1={0}
            y2={PLOT_HEIGHT}
          />
          <text x={tick.at} y={PLOT_HEIGHT + 16} textAnchor="middle">
            {xText(tick.value, axis)}
          </text>
        </g>
      ))}
      <text x={PLOT_WIDTH / 2} y={PLOT_HEIGHT + 32} textAnchor="middle">
        {AXES.find(option => option.value === axis)!.label}
      </text>
    </g>
  );
}
