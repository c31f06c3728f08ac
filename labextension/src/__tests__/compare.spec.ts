import { hasTimestamps, niceTicks, overlay } from '../compare/overlay';
import { compareTitle, normalVersions } from '../compare/context';
import { isBest, signatureRows, tableRows, tagRows, withFlipped } from '../compare/rows';
import { seriesLook } from '../compare/series';
import { IComparison } from '../types';

/** A comparison shaped as the API answers it (tests/test_compare.py's model, trimmed). */
function comparison(): IComparison {
  return {
    group: 'reg',
    name: 'compared fraud',
    versions: ['1', '2', '3'].map(version => ({
      version,
      requested: [version],
      aliases: [],
      status: 'READY',
      registered_at: null,
      description: null,
      deployed_by: [],
      model_uri: null,
      ui_url: null,
      run: null
    })),
    params: {
      alpha: { '1': '0.1', '2': '0.5', '3': '0.5' },
      depth: { '1': '3', '2': '3', '3': '3' },
      class_weight: { '1': null, '2': null, '3': 'balanced' }
    },
    metrics: {
      accuracy: { '1': 0.8, '2': 0.9, '3': 0.85 },
      val_loss: { '1': 0.5, '2': 0.3, '3': 0.4 }
    },
    directions: { accuracy: 'max', val_loss: 'min' },
    best: { accuracy: ['2'], val_loss: ['2'] },
    tags: { reviewed: { '1': 'yes', '2': 'yes', '3': 'no' } },
    run_tags: { team: { '1': 'a', '2': 'a', '3': 'a' } },
    signatures: {
      '1': null,
      '2': { inputs: [{ name: 'amount', type: 'double' }], outputs: null },
      '3': { inputs: [{ name: 'amount', type: 'double' }], outputs: null }
    },
    sizes: { '1': { bytes: 1100, files: 2 }, '2': { bytes: 2100, files: 2 }, '3': null },
    differences: {
      params: ['alpha', 'class_weight'],
      metrics: ['accuracy', 'val_loss'],
      tags: ['reviewed'],
      run_tags: [],
      signature: true
    }
  };
}

describe('tableRows', () => {
  const { params, differences } = comparison();

  it('keeps every key, sorted, with a value per version in column order', () => {
    const rows = tableRows(params, ['3', '1'], differences.params, false);
    expect(rows.map(row => row.key)).toEqual(['alpha', 'class_weight', 'depth']);
    expect(rows[1].values).toEqual(['balanced', null]);
    expect(rows.map(row => row.differs)).toEqual([true, true, false]);
  });

  it('drops the keys equal in every version when only differences are asked for', () => {
    const rows = tableRows(params, ['1', '2', '3'], differences.params, true);
    expect(rows.map(row => row.key)).toEqual(['alpha', 'class_weight']);
  });

  it('puts version tags and run tags in one table, each differing by its own list', () => {
    expect(tagRows(comparison(), ['1', '2', '3'], false).map(r => [r.kind, r.key])).toEqual([
      ['version', 'reviewed'],
      ['run', 'team']
    ]);
    expect(tagRows(comparison(), ['1', '2', '3'], true).map(r => r.key)).toEqual(['reviewed']);
  });

  it('shows a signature row as text, differing only where its text does', () => {
    const rows = signatureRows(comparison(), ['1', '2', '3'], false);
    expect(rows[0]).toEqual({
      key: 'Inputs',
      values: ['no signature', 'amount: double', 'amount: double'],
      differs: true
    });
    expect(signatureRows(comparison(), ['2', '3'], true)).toEqual([]);
  });
});

describe('best values and directions', () => {
  it('marks the versions the API names as best, and only those', () => {
    const compared = comparison();
    expect(['1', '2', '3'].filter(v => isBest(compared, 'accuracy', v))).toEqual(['2']);
    expect(isBest(compared, 'no-such-metric', '2')).toBe(false);
  });

  it('turns one metric the other way and keeps the other overrides', () => {
    const compared = comparison();
    expect(withFlipped({}, compared, 'val_loss')).toEqual({ val_loss: 'max' });
    compared.directions.val_loss = 'max';
    expect(withFlipped({ val_loss: 'max' }, compared, 'accuracy')).toEqual({
      accuracy: 'min',
      val_loss: 'max'
    });
    expect(withFlipped({ val_loss: 'max' }, compared, 'val_loss')).toEqual({ val_loss: 'min' });
  });
});

describe('tab names', () => {
  it('orders versions by number, then aliases, without repeats', () => {
    expect(normalVersions(['10', '@champion', '3', '9', '3'])).toEqual([
      '3',
      '9',
      '10',
      '@champion'
    ]);
  });

  it('titles the tab with the model and its versions', () => {
    expect(compareTitle('iris', ['3', '4', '@champion'])).toBe('Compare iris v3, v4, @champion');
  });
});

describe('overlay', () => {
  const series = [
    {
      id: '1',
      points: [
        { step: 0, value: 1, timestamp: 1000 },
        { step: 10, value: 3, timestamp: 3000 }
      ]
    },
    {
      id: '2',
      points: [
        { step: 0, value: 2, timestamp: 5000 },
        { step: 5, value: 5, timestamp: 6000 }
      ]
    }
  ];

  it('draws every series on shared scales', () => {
    const drawn = overlay(series, 'step', 100, 50)!;
    expect(drawn.x).toMatchObject({ min: 0, max: 10 });
    expect(drawn.y).toMatchObject({ min: 1, max: 5 });
    expect(drawn.series.map(line => line.points)).toEqual([
      '0.0,50.0 100.0,25.0',
      '0.0,37.5 50.0,0.0'
    ]);
  });

  it('rescales to the series shown and draws nothing of a hidden one', () => {
    const drawn = overlay(series, 'step', 100, 50, new Set(['2']))!;
    expect(drawn.y).toMatchObject({ min: 1, max: 3 });
    expect(drawn.series[1]).toEqual({ id: '2', count: 0, points: '', raw: '' });
    expect(overlay(series, 'step', 100, 50, new Set(['1', '2']))).toBeNull();
  });

  it('counts time from each series own start, or by the clock', () => {
    const relative = overlay(series, 'relative', 100, 50)!;
    expect(relative.x).toMatchObject({ min: 0, max: 2 }); // seconds
    const wall = overlay(series, 'wall', 100, 50)!;
    expect(wall.x).toMatchObject({ min: 1000, max: 6000 });
  });

  it('offers time only when every point has its moment', () => {
    expect(hasTimestamps(series)).toBe(true);
    expect(hasTimestamps([{ id: '1', points: [{ step: 0, value: 1 }] }])).toBe(false);
    expect(hasTimestamps([{ id: '1', points: [] }])).toBe(false);
  });

  it('gives one value room on both sides', () => {
    const drawn = overlay([{ id: '1', points: [{ step: 3, value: 2 }] }], 'step', 100, 50)!;
    expect(drawn.y.min).toBeLessThan(2);
    expect(drawn.y.max).toBeGreaterThan(2);
    expect(drawn.series[0].points).toBe('50.0,25.0');
  });

  it('keeps long histories to a few hundred points, spikes included', () => {
    const long = Array.from({ length: 5000 }, (_, step) => ({
      step,
      value: step === 2500 ? 100 : 1
    }));
    const drawn = overlay([{ id: '1', points: long }], 'step', 1000, 100)!;
    const ys = drawn.series[0].points.split(' ').map(point => Number(point.split(',')[1]));
    expect(ys.length).toBeLessThanOrEqual(601);
    expect(Math.min(...ys)).toBe(0); // the spike, at the top
  });

  it('ticks at round values inside the range', () => {
    expect(niceTicks(0, 999)).toEqual([0, 200, 400, 600, 800]);
    expect(niceTicks(0.2, 0.6)).toEqual([0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(niceTicks(1, 1)).toEqual([1]);
  });
});

describe('seriesLook', () => {
  it('cycles five colours, then dashes them', () => {
    expect(seriesLook(0)).toEqual({
      className: 'jp-MlflowGroups-series jp-mod-colour0',
      dash: undefined
    });
    expect(seriesLook(6).className).toContain('jp-mod-colour1');
    expect(seriesLook(6).dash).toBeDefined();
  });
});
