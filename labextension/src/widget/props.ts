/**
 * What a MetricChart widget's model holds, as OverlayChart's props: the synced traits of
 * jupyter_mlflow_groups.kernel.widgets.charts.MetricChart, checked (a kernel sends what it
 * likes), values that are not numbers (null for NaN) kept out of the lines.
 */
import { XAxis } from '../compare/overlay';
import { IChartSeries } from '../components/OverlayChart';
import { IMetricPoint } from '../types';

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
