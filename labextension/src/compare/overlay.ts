/**
 * The geometry of several metric histories on one chart: shared scales over the series shown,
 * a polyline per series (sampled like chart.ts: spikes stay visible), smoothed on demand by an
 * exponential moving average (TensorBoard's, debiased), and round axis ticks. Pure, so Jest
 * checks it without a browser.
 */
import { sample } from '../chart';
import { IMetricPoint } from '../types';

/** What the x axis counts: steps, the moment each value was logged, or the time since the
 * series' first value. */
export type XAxis = 'step' | 'wall' | 'relative';

export interface ISeries {
  id: string;
  points: IMetricPoint[];
}

export interface IPlottedSeries {
  id: string;
  /** SVG polyline points, in the plot's coordinates; empty for a series with no value. The
   * smoothed line when smoothing is on. */
  points: string;
  /** The raw values' polyline, drawn faint behind the smoothed one; empty without smoothing. */
  raw: string;
  count: number;
}

/** The most smoothing there is: at 1 the average would never move. */
export const MAX_SMOOTHING = 0.99;

/** A smoothing weight as the chart uses it: a number within [0, MAX_SMOOTHING]. */
export function smoothingWeight(weight: number): number {
  return isFinite(weight) ? Math.min(MAX_SMOOTHING, Math.max(0, weight)) : 0;
}

/**
 * `values` smoothed by an exponential moving average of weight `weight` (0: none; 0.99: the
 * most), debiased as TensorBoard does so the first values are not pulled towards zero:
 * s_i = (w·a_(i-1) + (1-w)·v_i) / (1 - w^i). Values that are not finite pass through and do
 * not move the average; a constant series stays constant.
 */
export function smooth(values: number[], weight: number): number[] {
  const w = smoothingWeight(weight);
  const finite = values.filter(value => isFinite(value));
  if (w === 0 || finite.every(value => value === finite[0])) {
    return [...values];
  }
  let average = 0;
  let count = 0;
  return values.map(value => {
    if (!isFinite(value)) {
      return value;
    }
    average = average * w + (1 - w) * value;
    count++;
    return average / (1 - Math.pow(w, count));
  });
}

export interface ITick {
  value: number;
  /** Where it is along its axis, in the plot's coordinates. */
  at: number;
}

export interface IOverlay {
  series: IPlottedSeries[];
  x: { min: number; max: number; ticks: ITick[] };
  y: { min: number; max: number; ticks: ITick[] };
}

/** Whether every point has the moment it was logged: only then can time be the x axis. */
export function hasTimestamps(series: ISeries[]): boolean {
  return (
    series.some(one => one.points.length > 0) &&
    series.every(one => one.points.every(point => typeof point.timestamp === 'number'))
  );
}

/** A point's x: its step, its timestamp (ms), or the seconds since the series' first. */
function xOf(point: IMetricPoint, axis: XAxis, origin: number): number {
  if (axis === 'step') {
    return point.step;
  }
  const at = point.timestamp ?? 0;
  return axis === 'wall' ? at : (at - origin) / 1000;
}

interface IXY {
  x: number;
  y: number;
}

function finitePoints(series: ISeries, axis: XAxis): IXY[] {
  const finite = series.points.filter(point => isFinite(point.value));
  const origin = Math.min(...finite.map(point => point.timestamp ?? 0));
  return finite
    .map(point => ({ x: xOf(point, axis, origin), y: point.value }))
    .sort((a, b) => a.x - b.x);
}

/** The series on one pair of axes scaled to what is shown (hidden series do not stretch
 * them); null when no shown series has a value. */
export function overlay(
  series: ISeries[],
  axis: XAxis,
  width: number,
  height: number,
  hidden: ReadonlySet<string> = new Set(),
  smoothing = 0,
  buckets = 300
): IOverlay | null {
  const values = new Map(series.map(one => [one.id, finitePoints(one, axis)]));
  const shown = series.filter(one => !hidden.has(one.id)).flatMap(one => values.get(one.id)!);
  if (shown.length === 0) {
    return null;
  }
  const x = padded(Math.min(...shown.map(p => p.x)), Math.max(...shown.map(p => p.x)));
  const y = padded(Math.min(...shown.map(p => p.y)), Math.max(...shown.map(p => p.y)));
  const sx = (value: number) => ((value - x.min) / (x.max - x.min)) * width;
  const sy = (value: number) => height - ((value - y.min) / (y.max - y.min)) * height;
  const weight = smoothingWeight(smoothing);
  const line = (points: IXY[]) =>
    sample(points.length, buckets, index => points[index].y)
      .map(index => `${sx(points[index].x).toFixed(1)},${sy(points[index].y).toFixed(1)}`)
      .join(' ');
  const plotted = series.map(one => {
    const points = hidden.has(one.id) ? [] : values.get(one.id)!;
    const smoothed = smooth(
      points.map(point => point.y),
      weight
    ).map((y, index) => ({ x: points[index].x, y }));
    return {
      id: one.id,
      count: points.length,
      points: line(weight > 0 ? smoothed : points),
      raw: weight > 0 ? line(points) : ''
    };
  });
  return {
    series: plotted,
    x: { ...x, ticks: niceTicks(x.min, x.max).map(value => ({ value, at: sx(value) })) },
    y: { ...y, ticks: niceTicks(y.min, y.max).map(value => ({ value, at: sy(value) })) }
  };
}

/** A range that is not empty: one value gets room on both sides. */
function padded(min: number, max: number): { min: number; max: number } {
  if (max > min) {
    return { min, max };
  }
  const room = Math.abs(min) / 10 || 1;
  return { min: min - room, max: max + room };
}

/** Round values (1, 2 or 5 times a power of ten) within [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min) || !isFinite(min) || !isFinite(max)) {
    return isFinite(min) ? [min] : [];
  }
  const rough = (max - min) / count;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 5, 10].map(f => f * power).find(candidate => candidate >= rough)!;
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max + step * 1e-9; tick += step) {
    ticks.push(Number(tick.toPrecision(12)));
  }
  return ticks;
}
