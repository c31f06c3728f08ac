/**
 * What a MetricChart widget's model holds, as OverlayChart's props: the synced traits of
 * jupyter_mlflow_groups.kernel.widgets.charts.MetricChart, checked (a kernel sends what it
 * likes), values that are not numbers (null for NaN) kept out of the lines.
 */
import { XAxis } from '../compare/overlay';
import { IChartSeries } from '../components/OverlayChart';
import { Direction, IMetricAcrossVersions, IMetricPoint } from '../types';

/** Enough of a widget model to read it (Backbone's `get`). */
export interface IModelLike {
  get(name: string): unknown;
}

export interface IChartState {
  title: string;
  series: IChartSeries[];
  axis: XAxis;
  smoothing: number;
  note: string;
}

const AXES: XAxis[] = ['step', 'wall', 'relative'];

function point(raw: unknown): IMetricPoint | null {
  if (typeof raw !== 'object' || raw === null) {
    return null;
  }
  const { step, value, timestamp } = raw as Record<string, unknown>;
  if (typeof step !== 'number') {
    return null;
  }
  return {
    step,
    value: typeof value === 'number' ? value : NaN,
    timestamp: typeof timestamp === 'number' ? timestamp : null
  };
}

export function chartState(model: IModelLike): IChartState {
  const raw = model.get('series');
  const series = (Array.isArray(raw) ? raw : []).map((one, index) => {
    const entry = (typeof one === 'object' && one !== null ? one : {}) as Record<string, unknown>;
    const points = (Array.isArray(entry.points) ? entry.points : [])
      .map(point)
      .filter((p): p is IMetricPoint => p !== null);
    return {
      id: String(index),
      label: typeof entry.label === 'string' ? entry.label : `series ${index + 1}`,
      points
    };
  });
  const axis = model.get('x_axis');
  const smoothing = model.get('smoothing');
  const title = model.get('title');
  const note = model.get('note');
  return {
    title: typeof title === 'string' ? title : '',
    series,
    axis: AXES.includes(axis as XAxis) ? (axis as XAxis) : 'step',
    smoothing: typeof smoothing === 'number' ? smoothing : 0,
    note: typeof note === 'string' ? note : ''
  };
}

function acrossPoint(raw: unknown): IMetricAcrossVersions['versions'][number] | null {
  if (typeof raw !== 'object' || raw === null) {
    return null;
  }
  const { version, value, step, aliases } = raw as Record<string, unknown>;
  if (typeof version !== 'string') {
    return null;
  }
  return {
    version,
    value: typeof value === 'number' ? value : null,
    step: typeof step === 'number' ? step : null,
    aliases: Array.isArray(aliases) ? aliases.filter(a => typeof a === 'string') : []
  };
}

/** An AcrossVersionsChart widget's model, checked as `chartState` checks a MetricChart's:
 * the API's answer for one metric across versions, or null (nothing to draw yet). */
export function acrossState(model: IModelLike): IMetricAcrossVersions | null {
  const raw = model.get('across');
  if (typeof raw !== 'object' || raw === null) {
    return null;
  }
  const answer = raw as Record<string, unknown>;
  const versions = (Array.isArray(answer.versions) ? answer.versions : [])
    .map(acrossPoint)
    .filter((p): p is IMetricAcrossVersions['versions'][number] => p !== null);
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    group: text(answer.group),
    name: text(answer.name),
    key: text(answer.key),
    direction: (answer.direction === 'min' ? 'min' : 'max') as Direction,
    versions,
    best: Array.isArray(answer.best) ? answer.best.filter(b => typeof b === 'string') : [],
    more: answer.more === true
  };
}
