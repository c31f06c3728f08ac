/**
 * The geometry of a metric's history chart: a polyline through at most a few hundred points
 * (each bucket of steps keeps its lowest and highest value, so spikes stay visible).
 */
import { IMetricPoint } from './types';

export interface IChartLine {
  points: string;
  min: number;
  max: number;
  firstStep: number;
  lastStep: number;
}

export function chartLine(
  history: IMetricPoint[],
  width: number,
  height: number,
  buckets = 200
): IChartLine | null {
  const finite = history.filter(point => isFinite(point.value));
  if (finite.length < 2) {
    return null;
  }
  const values = finite.map(point => point.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const firstStep = finite[0].step;
  const lastStep = finite[finite.length - 1].step;
  const x = (index: number) =>
    lastStep === firstStep
      ? (index / (finite.length - 1)) * width
      : ((finite[index].step - firstStep) / (lastStep - firstStep)) * width;
  const y = (value: number) =>
    max === min ? height / 2 : height - ((value - min) / (max - min)) * height;
  const shown = sample(finite.length, buckets, index => finite[index].value);
  const points = shown
    .map(index => `${x(index).toFixed(1)},${y(finite[index].value).toFixed(1)}`)
    .join(' ');
  return { points, min, max, firstStep, lastStep };
}

/** Indices to draw: all of them when few, else each bucket's lowest and highest. */
export function sample(count: number, buckets: number, value: (index: number) => number): number[] {
  if (count <= buckets * 2) {
    return Array.from({ length: count }, (_, index) => index);
  }
  const indices: number[] = [];
  const size = count / buckets;
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = Math.floor(bucket * size);
    const end = Math.min(count, Math.floor((bucket + 1) * size));
    let low = start;
    let high = start;
    for (let index = start; index < end; index++) {
      if (value(index) < value(low)) {
        low = index;
      }
      if (value(index) > value(high)) {
        high = index;
      }
    }
    indices.push(Math.min(low, high), Math.max(low, high));
  }
  indices.push(count - 1);
  return indices;
}
