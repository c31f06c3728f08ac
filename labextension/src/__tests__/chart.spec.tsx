import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { MAX_SMOOTHING, overlay, smooth, smoothingWeight } from '../compare/overlay';
import { OverlayChart } from '../components/OverlayChart';
import { MetricChartWidget } from '../widget/MetricChartWidget';
import { AcrossVersionsPlot } from '../components/AcrossVersionsChart';
import { acrossState, chartState } from '../widget/props';
import { MODULE_NAME, MODULE_VERSION } from '../widget/version';
import pkg from '../../package.json';

const points = (values: number[]) => values.map((value, step) => ({ step, value }));

describe('smooth', () => {
  it('is the identity at weight 0', () => {
    expect(smooth([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it('is a debiased exponential moving average, as TensorBoard has it', () => {
    const w = 0.6;
    const values = [1, 2, 3];
    // a_1 = 0.4, a_2 = 0.24 + 0.8 = 1.04, a_3 = 0.624 + 1.2 = 1.824; divided by 1 - w^i
    const expected = [0.4 / (1 - w), 1.04 / (1 - w * w), 1.824 / (1 - w * w * w)];
    smooth(values, w).forEach((value, index) => expect(value).toBeCloseTo(expected[index], 12));
    expect(smooth(values, w)[0]).toBeCloseTo(1, 12); // the first value is not pulled to zero
  });

  it('keeps a constant series constant, and steadies a noisy one', () => {
    expect(smooth([2, 2, 2, 2], 0.9)).toEqual([2, 2, 2, 2]);
    const noisy = Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 : -1));
    const smoothed = smooth(noisy, 0.95);
    expect(Math.max(...smoothed.slice(100).map(Math.abs))).toBeLessThan(0.06);
  });

  it('lets values that are not numbers through without moving the average', () => {
    const smoothed = smooth([1, NaN, 3], 0.5);
    expect(smoothed[1]).toBeNaN();
    expect(smoothed[2]).toBeCloseTo(smooth([1, 3], 0.5)[1], 12);
  });

  it('keeps weights within [0, 0.99]', () => {
    expect(smoothingWeight(-1)).toBe(0);
    expect(smoothingWeight(1)).toBe(MAX_SMOOTHING);
    expect(smoothingWeight(NaN)).toBe(0);
    expect(smooth([0, 10], 5)).toEqual(smooth([0, 10], MAX_SMOOTHING));
  });
});

describe('overlay with smoothing', () => {
  const series = [{ id: 'a', points: points([0, 10, 0, 10, 0]) }];

  it('draws the smoothed line, and the raw one behind it on the same scales', () => {
    const plain = overlay(series, 'step', 100, 50)!;
    expect(plain.series[0].raw).toBe('');
    const smoothed = overlay(series, 'step', 100, 50, new Set(), 0.8)!;
    expect(smoothed.series[0].raw).toBe(plain.series[0].points);
    expect(smoothed.y).toEqual(plain.y); // the raw values set the scales
    const ys = (line: string) => line.split(' ').map(xy => Number(xy.split(',')[1]));
    const spread = (line: string) => Math.max(...ys(line)) - Math.min(...ys(line));
    expect(spread(smoothed.series[0].points)).toBeLessThan(spread(plain.series[0].points));
  });
});

describe('OverlayChart', () => {
  it('draws a line per series; the smoothing control adds the faint raw lines', () => {
    const { container } = render(
      <OverlayChart
        metric="loss"
        series={[
          { id: '0', label: 'train', points: points([3, 2, 1.5, 1]) },
          { id: '1', label: 'val', points: points([3, 2.5, 2, 2]) }
        ]}
      />
    );
    expect(container.querySelectorAll('polyline')).toHaveLength(2);
    expect(container.querySelectorAll('path.jp-mod-raw')).toHaveLength(0);
    fireEvent.change(screen.getByLabelText('Smoothing weight'), { target: { value: '0.6' } });
    expect(container.querySelectorAll('path.jp-mod-raw')).toHaveLength(2);
    expect(container.querySelector('svg[role="img"]')!.getAttribute('aria-label')).toBe(
      'loss by step, smoothed 0.6: train 4 values, val 4 values'
    );
    fireEvent.click(screen.getByRole('button', { name: 'val' }));
    expect(container.querySelectorAll('polyline')).toHaveLength(1);
  });
});

/** A widget model as the view reads it (Backbone's get/set), with what the kernel sent. */
class FakeModel {
  constructor(public attributes: Record<string, unknown>) {}
  get(name: string): unknown {
    return this.attributes[name];
  }
}

describe('the MetricChart widget', () => {
  it('draws the series a kernel sent, and writes the x axis and smoothing back', () => {
    const model = new FakeModel({
      title: 'train/loss',
      series: [
        {
          label: 'v1',
          points: [
            { step: 0, value: 1, timestamp: 1000 },
            { step: 1, value: null, timestamp: 2000 }, // NaN, as JSON has it
            { step: 2, value: 0.5, timestamp: 3000 }
          ]
        },
        { label: 'v2', points: [{ step: 0, value: 2, timestamp: 1000 }] },
        'not a series'
      ],
      x_axis: 'relative',
      smoothing: 0,
      note: 'running · 3 steps'
    });
    const state = chartState(model);
    expect(state.series.map(one => [one.label, one.points.length])).toEqual([
      ['v1', 3],
      ['v2', 1],
      ['series 3', 0]
    ]);
    const written: [string, unknown][] = [];
    const { container } = render(
      <MetricChartWidget
        state={state}
        onAxis={axis => written.push(['x_axis', axis])}
        onSmoothing={value => written.push(['smoothing', value])}
      />
    );
    expect(container.querySelector('svg[role="img"]')!.getAttribute('aria-label')).toMatch(
      /^train\/loss by relative time: v1 3 values, v2 1 values/
    );
    const v1 = container.querySelector('polyline[data-series="0"]')!;
    expect(v1.getAttribute('points')!.split(' ')).toHaveLength(2); // the null is left out
    expect(screen.getByText('running · 3 steps')).toBeTruthy();
    act(() => {
      fireEvent.change(screen.getByLabelText('X axis'), { target: { value: 'step' } });
      fireEvent.change(screen.getByLabelText('Smoothing weight'), { target: { value: '0.5' } });
    });
    expect(written).toEqual([
      ['x_axis', 'step'],
      ['smoothing', 0.5]
    ]);
  });

  it('is registered under the labextension package name and version', () => {
    expect([MODULE_NAME, MODULE_VERSION]).toEqual([pkg.name, pkg.version]);
  });

  it('draws one metric across versions from what a kernel sent, dropping what is not a point', () => {
    const model = new FakeModel({
      across: {
        group: 'reg',
        name: 'fraud',
        key: 'val_loss',
        direction: 'min',
        versions: [
          { version: '1', value: 0.5, step: 0, aliases: [] },
          { version: '2', value: 0.3, step: 0, aliases: ['champion', 7] },
          { version: '3', value: 'NaN', step: 0, aliases: [] },
          { value: 0.1 }
        ],
        best: ['2'],
        more: false
      }
    });
    const across = acrossState(model)!;
    expect(across.versions.map(v => [v.version, v.value, v.aliases])).toEqual([
      ['1', 0.5, []],
      ['2', 0.3, ['champion']],
      ['3', null, []]
    ]);
    const { container } = render(<AcrossVersionsPlot across={across} />);
    expect(container.querySelector('figure')!.getAttribute('data-metric')).toBe('val_loss');
    expect(container.querySelectorAll('circle')).toHaveLength(2); // v3 has no value
    expect(container.querySelector('circle.jp-mod-best')!.getAttribute('data-version')).toBe('2');
    expect(acrossState(new FakeModel({ across: null }))).toBeNull();
  });
});
