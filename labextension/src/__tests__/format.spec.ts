import {
  formatAgo,
  formatBytes,
  formatDuration,
  formatModelSize,
  formatNumber,
  formatRate,
  formatTime,
  fullTimestamp
} from '../format';

describe('formatModelSize', () => {
  it.each([
    [{ bytes: 2100, files: 2 }, '2.1 kB in 2 files'],
    [{ bytes: 512, files: 1 }, '512 B in 1 file'],
    [null, 'unknown']
  ])('%j reads %s', (size, text) => {
    expect(formatModelSize(size)).toBe(text);
  });
});

describe('formatBytes', () => {
  // decimal SI: 1 kB = 1000 B
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1500, '1.5 kB'],
    [99_940, '99.9 kB'],
    [123_456, '123 kB'],
    [60_000_000, '60.0 MB'],
    [2.5e9, '2.5 GB'],
    [7e12, '7.0 TB'],
    [5e15, '5000 TB'] // TB is the largest unit
  ])('%d bytes are %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('moves to the next unit when rounding reaches 1000', () => {
    expect(formatBytes(999_999)).toBe('1.0 MB');
    expect(formatBytes(999.7)).toBe('1.0 kB');
  });

  it('shows no decimal once the rounded value has three digits', () => {
    expect(formatBytes(99_960)).toBe('100 kB');
  });
});

describe('formatRate', () => {
  it('is a size per second', () => {
    expect(formatRate(20_000_000)).toBe('20.0 MB/s');
    expect(formatRate(0)).toBe('0 B/s');
  });
});

describe('formatDuration', () => {
  it.each([
    [-5, '0 s'],
    [0, '0 s'],
    [59.4, '59 s'],
    [59.6, '1 min 0 s'],
    [61, '1 min 1 s'],
    [3599, '59 min 59 s'],
    [3600, '1 h 0 min'],
    [7322, '2 h 2 min']
  ])('%d seconds are %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('formatTime', () => {
  // local times, so that the expected text holds in any time zone the tests run in
  const moment = new Date(2026, 11, 2, 8, 39, 12);
  const iso = moment.toISOString();

  it('is the day and the time (24 h) in the browser time zone', () => {
    expect(formatTime(iso)).toBe('2026-12-02 08:39');
    expect(formatTime(new Date(2026, 0, 5, 17, 4).toISOString())).toBe('2026-01-05 17:04');
  });

  it('is empty for no time', () => {
    expect(formatTime(null)).toBe('');
    expect(formatTime(undefined)).toBe('');
    expect(formatTime('')).toBe('');
  });

  it('shows what it cannot read as it is', () => {
    expect(formatTime('not a time')).toBe('not a time');
  });
});

describe('fullTimestamp', () => {
  it('is ISO 8601 with the offset of the browser time zone, the same moment', () => {
    const iso = new Date(2026, 11, 2, 8, 39, 12).toISOString();
    const full = fullTimestamp(iso);
    expect(full).toMatch(/^2026-12-02T08:39:12[+-]\d\d:\d\d$/);
    expect(new Date(full).getTime()).toBe(new Date(iso).getTime());
  });

  it('shows what it cannot read as it is', () => {
    expect(fullTimestamp(null)).toBe('');
    expect(fullTimestamp('soon')).toBe('soon');
  });
});

describe('formatAgo', () => {
  const now = new Date(2026, 11, 2, 8, 39, 0).getTime();
  const before = (ms: number) => new Date(now - ms).toISOString();
  const MINUTE = 60_000;
  const HOUR = 60 * MINUTE;

  it.each([
    [0, 'just now'],
    [59_000, 'just now'],
    [MINUTE, '1 min ago'],
    [3 * MINUTE + 30_000, '3 min ago'],
    [59 * MINUTE, '59 min ago'],
    [HOUR, '1 h ago'],
    [2 * HOUR + 10 * MINUTE, '2 h ago'],
    [23 * HOUR, '23 h ago']
  ])('%d ms ago is %s', (ms, text) => {
    expect(formatAgo(before(ms), now)).toBe(text);
  });

  it('is "yesterday" for the day before, a day ago or more', () => {
    expect(formatAgo(new Date(2026, 11, 1, 7, 0).toISOString(), now)).toBe('yesterday');
    expect(formatAgo(new Date(2026, 11, 1, 0, 5).toISOString(), now)).toBe('yesterday');
  });

  it('is the day before yesterday', () => {
    expect(formatAgo(new Date(2026, 10, 30, 22, 15).toISOString(), now)).toBe('2026-11-30');
  });

  it('is the day and time for a moment ahead of this clock', () => {
    expect(formatAgo(new Date(2026, 11, 2, 9, 45).toISOString(), now)).toBe('2026-12-02 09:45');
    expect(formatAgo(new Date(now + 20_000).toISOString(), now)).toBe('just now');
  });

  it('shows what it cannot read as it is', () => {
    expect(formatAgo(null, now)).toBe('');
    expect(formatAgo('soon', now)).toBe('soon');
  });
});

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [0.5, '0.5'],
    [0.123456, '0.1235'],
    [1234.5678, '1235'],
    [-42.125, '-42.13'],
    [0.001, '0.001'],
    [0.0001234, '1.23e-4'],
    [1e6, '1.00e+6'],
    [-2.5e7, '-2.50e+7']
  ])('%d is %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('shows values that are not finite by name', () => {
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(Infinity)).toBe('Infinity');
    expect(formatNumber(-Infinity)).toBe('-Infinity');
  });
});
