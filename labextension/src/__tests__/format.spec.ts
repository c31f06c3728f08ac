import {
  formatBytes,
  formatDuration,
  formatNumber,
  formatRate,
  formatTime
} from '../format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1500, '1.5 KB'],
    [99_940, '99.9 KB'],
    [123_456, '123 KB'],
    [60_000_000, '60.0 MB'],
    [2.5e9, '2.5 GB'],
    [7e12, '7.0 TB'],
    [5e15, '5000 TB'] // TB is the largest unit
  ])('%d bytes are %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('moves to the next unit when rounding reaches 1000', () => {
    expect(formatBytes(999_999)).toBe('1.0 MB');
    expect(formatBytes(999.7)).toBe('1.0 KB');
  });

  it('shows no decimal once the rounded value has three digits', () => {
    expect(formatBytes(99_960)).toBe('100 KB');
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
  const iso = '2024-03-15T10:20:00Z';

  it('is empty for no time', () => {
    expect(formatTime(null)).toBe('');
    expect(formatTime(undefined)).toBe('');
    expect(formatTime('')).toBe('');
  });

  it('shows what it cannot read as it is', () => {
    expect(formatTime('yesterday')).toBe('yesterday');
  });

  it("is the day and time in the reader's locale", () => {
    const expected = new Intl.DateTimeFormat(undefined, {
      dateStyle: 'medium',
      timeStyle: 'short'
    }).format(new Date(iso));
    expect(formatTime(iso)).toBe(expected);
  });

  it('is only the short day when asked', () => {
    const expected = new Intl.DateTimeFormat(undefined, {
      dateStyle: 'short'
    }).format(new Date(iso));
    expect(formatTime(iso, true)).toBe(expected);
    expect(formatTime(iso, true)).not.toBe(formatTime(iso));
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
