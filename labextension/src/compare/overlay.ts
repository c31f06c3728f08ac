/**
 * The geometry of several metric histories on one chart: shared scales over the series shown,
 * a polyline per series (sampled like chart.ts: spikes stay visible), and round axis ticks.
 * Pure, so Jest checks it without a browser.
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
  /** SVG polyline points, in the plot's coordinates; empty for a series with no value. */
  points: string;
  count: number;
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
  const plotted = series.map(one => {
    const points = hidden.has(one.id) ? [] : values.get(one.id)!;
    const indices = sample(points.length, buckets, index => points[index].y);
    return {
      id: one.id,
      count: points.length,
      points: indices
        .map(index => `${sx(points[index].x).toFixed(1)},${sy(points[index].y).toFixed(1)}`)
        .join(' ')
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
