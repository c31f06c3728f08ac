/**
 * Metric histories overlaid on one chart (SVG drawn here, coloured by the theme): a legend
 * whose entries show and hide lines, the x axis by step or, when MLflow kept the moments, by
 * wall time or time since each series' first value, and smoothing (an exponential moving
 * average, the raw line kept faint behind). The one chart of the compare tab (HistoryChart
 * loads its histories) and of the notebook widgets (widget/view.tsx).
 */
import { HTMLSelect } from '@jupyterlab/ui-components';
import React, { useId, useState } from 'react';

import {
  IOverlay,
  ISeries,
  MAX_SMOOTHING,
  XAxis,
  hasTimestamps,
  overlay
} from '../compare/overlay';
import { seriesLook } from '../compare/series';
import { formatNumber } from '../format';
import { IMetricPoint } from '../types';

/** A line to draw: its id, its name in the legend, its points, and a word on it (the legend
 * entry's tooltip: how many values, or why there are none). */
export interface IChartSeries {
  id: string;
  label: string;
  points: IMetricPoint[];
  note?: string;
}

export interface IOverlayChartProps {
  /** What the chart shows: the metric's name (or a run's). */
  metric: string;
  series: IChartSeries[];
  /** The x axis and smoothing, held by the caller (a widget's model) when given with their
   * `on...` callback; by the chart otherwise. */
  axis?: XAxis;
  onAxis?: (axis: XAxis) => void;
  smoothing?: number;
  onSmoothing?: (smoothing: number) => void;
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

/** A value the caller holds when it says how it changes, else one of the chart's own. */
function useHeld<T>(given: T | undefined, onChange: ((value: T) => void) | undefined, start: T) {
  const [own, setOwn] = useState<T>(given ?? start);
  return onChange && given !== undefined ? ([given, onChange] as const) : ([own, setOwn] as const);
}

export function OverlayChart(props: IOverlayChartProps): JSX.Element {
  const { metric, series: sources } = props;
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [axis, setAxis] = useHeld<XAxis>(props.axis, props.onAxis, 'step');
  const [smoothing, setSmoothing] = useHeld<number>(props.smoothing, props.onSmoothing, 0);
  const axisId = useId();
  const smoothingId = useId();

  const series: ISeries[] = sources.map(source => ({ id: source.id, points: source.points }));
  const timed = hasTimestamps(series);
  const shownAxis = timed ? axis : 'step';
  const drawn = overlay(series, shownAxis, PLOT_WIDTH, PLOT_HEIGHT, hidden, smoothing);
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
    `${metric} by ${axisName}` +
    (smoothing > 0 ? `, smoothed ${smoothing}` : '') +
    ': ' +
    sources.map(source => `${source.label} ${source.points.length} values`).join(', ');
  const chooseSmoothing = (value: string) => {
    const number = Number(value);
    if (value !== '' && isFinite(number)) {
      setSmoothing(Math.min(MAX_SMOOTHING, Math.max(0, number)));
    }
  };

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
        <label htmlFor={smoothingId}>Smoothing</label>
        <input
          id={smoothingId}
          className="jp-MlflowGroups-smoothing"
          type="range"
          min={0}
          max={MAX_SMOOTHING}
          step={0.01}
          value={smoothing}
          onChange={event => chooseSmoothing(event.currentTarget.value)}
        />
        <input
          className="jp-MlflowGroups-smoothingValue"
          type="number"
          aria-label="Smoothing weight"
          min={0}
          max={MAX_SMOOTHING}
          step={0.01}
          value={smoothing}
          onChange={event => chooseSmoothing(event.currentTarget.value)}
        />
      </div>
      <figure className="jp-MlflowGroups-overlayChart" data-metric={metric}>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
          <title>{summary}</title>
          {drawn && (
            <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
              <Axes drawn={drawn} axis={shownAxis} />
              {drawn.series.map((line, index) =>
                line.raw ? (
                  <path
                    key={`raw${line.id}`}
                    data-raw={line.id}
                    className={`${seriesLook(index).className} jp-mod-raw`}
                    d={`M${line.raw.replace(/ /g, 'L')}`}
                  />
                ) : null
              )}
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
        {sources.map((source, index) => (
          <li key={source.id}>
            <button
              className="jp-MlflowGroups-legendEntry"
              aria-pressed={!hidden.has(source.id)}
              title={`${hidden.has(source.id) ? 'Show' : 'Hide'} ${source.label} (${
                source.note ?? `${source.points.length} values`
              })`}
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
        ))}
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
