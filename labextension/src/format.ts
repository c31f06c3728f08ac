/**
 * Numbers, sizes and times as people read them: one form everywhere in the panel (the Python
 * side uses the same rules).
 */
import { IModelSize } from './types';

/** Decimal SI units: 1 kB = 1000 B. */
const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** One decimal below 100, none from 100 up; a value that would round to 1000 is shown in the
 * next unit ("1.0 MB", never "1000 kB"). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  // the thresholds are where rounding would show "1000" or "100.0"
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 99.95 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A model's size: "2.1 kB in 2 files"; "unknown" where MLflow could not list its files. */
export function formatModelSize(size: IModelSize | null | undefined): string {
  if (!size) {
    return 'unknown';
  }
  return `${formatBytes(size.bytes)} in ${size.files} ${size.files === 1 ? 'file' : 'files'}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) {
    return `${whole} s`;
  }
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) {
    return `${minutes} min ${whole % 60} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function parse(iso: string | null | undefined): Date | null {
  if (!iso) {
    return null;
  }
  const moment = new Date(iso);
  return isNaN(moment.getTime()) ? null : moment;
}

const pad = (value: number) => String(value).padStart(2, '0');

function day(moment: Date): string {
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;
}

/** An ISO timestamp as `2026-12-02 08:39`: the day and the time (24 h), in the browser's time
 * zone. What cannot be read is shown as it is; no time is an empty string. */
export function formatTime(iso: string | null | undefined): string {
  const moment = parse(iso);
  if (!moment) {
    return iso ?? '';
  }
  return `${day(moment)} ${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

/** The full timestamp in the browser's time zone, ISO 8601 with its offset
 * (`2026-12-02T08:39:12+01:00`): what a time shows on hover. */
export function fullTimestamp(iso: string | null | undefined): string {
  const moment = parse(iso);
  if (!moment) {
    return iso ?? '';
  }
  const offset = -moment.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const hours = pad(Math.floor(Math.abs(offset) / 60));
  return (
    `${day(moment)}T${pad(moment.getHours())}:${pad(moment.getMinutes())}:` +
    `${pad(moment.getSeconds())}${sign}${hours}:${pad(Math.abs(offset) % 60)}`
  );
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long ago, for lists people scan: "just now", "3 min ago", "2 h ago", "yesterday", then
 * the day (`2026-11-28`); a moment ahead of this clock by a minute or more: formatTime. */
export function formatAgo(iso: string | null | undefined, now: number = Date.now()): string {
  const moment = parse(iso);
  if (!moment) {
    return iso ?? '';
  }
  const elapsed = now - moment.getTime();
  if (elapsed < -MINUTE) {
    return formatTime(iso); // a clock ahead of this browser's
  }
  if (elapsed < MINUTE) {
    return 'just now';
  }
  if (elapsed < HOUR) {
    return `${Math.floor(elapsed / MINUTE)} min ago`;
  }
  if (elapsed < DAY) {
    return `${Math.floor(elapsed / HOUR)} h ago`;
  }
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  return day(moment) === day(yesterday) ? 'yesterday' : day(moment);
}

/** A metric value with as many digits as it needs, at most 4 significant. */
export function formatNumber(value: number): string {
  if (!isFinite(value)) {
    return String(value);
  }
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}
