/**
 * Numbers and times as people read them.
 */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

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

/** An ISO timestamp in the reader's locale: day and time, or only the day (short). */
export function formatTime(
  iso: string | null | undefined,
  dayOnly = false
): string {
  if (!iso) {
    return '';
  }
  const moment = new Date(iso);
  if (isNaN(moment.getTime())) {
    return iso;
  }
  return moment.toLocaleString(
    undefined,
    dayOnly ? { dateStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' }
  );
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
