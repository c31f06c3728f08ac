/**
 * The geometry of one metric across a model's versions: x = version number (evenly spaced, in
 * version order), y = the metric's value; versions without a value leave a gap in the line.
 */
export interface IVersionValue {
  version: string;
  value: number | null;
}

export interface IAcrossPoint {
  version: string;
  x: number;
  /** null: the version has no value (no dot, and the line breaks). */
  y: number | null;
}

export interface IAcrossGeometry {
  points: IAcrossPoint[];
  /** The line's segments, as SVG polyline point lists (split where a value is missing). */
  segments: string[];
  min: number;
  max: number;
}

export function acrossGeometry(
  values: IVersionValue[],
  width: number,
  height: number
): IAcrossGeometry | null {
  const known = values
    .map(entry => entry.value)
    .filter((value): value is number => value !== null && isFinite(value));
  if (known.length === 0) {
    return null;
  }
  const min = Math.min(...known);
  const max = Math.max(...known);
  const x = (index: number) =>
    values.length === 1 ? width / 2 : (index / (values.length - 1)) * width;
  const y = (value: number) =>
    max === min ? height / 2 : height - ((value - min) / (max - min)) * height;
  const points = values.map((entry, index) => ({
    version: entry.version,
    x: x(index),
    y: entry.value !== null && isFinite(entry.value) ? y(entry.value) : null
  }));
  const segments: string[] = [];
  let current: string[] = [];
  for (const point of points) {
    if (point.y === null) {
      if (current.length > 1) {
        segments.push(current.join(' '));
      }
      current = [];
    } else {
      current.push(`${point.x.toFixed(1)},${point.y.toFixed(1)}`);
    }
  }
  if (current.length > 1) {
    segments.push(current.join(' '));
  }
  return { points, segments, min, max };
}
