import { acrossGeometry } from '../compare/acrossVersions';

describe('acrossGeometry', () => {
  it('spaces versions evenly and puts the lowest value at the bottom', () => {
    const geometry = acrossGeometry(
      [
        { version: '1', value: 0.5 },
        { version: '2', value: 0.3 },
        { version: '3', value: 0.4 }
      ],
      100,
      50
    )!;
    expect(geometry.points.map(point => point.x)).toEqual([0, 50, 100]);
    const ys = geometry.points.map(point => point.y!);
    expect(ys[0]).toBe(0);
    expect(ys[1]).toBe(50);
    expect(ys[2]).toBeCloseTo(25);
    expect(geometry.segments).toEqual(['0.0,0.0 50.0,50.0 100.0,25.0']);
    expect([geometry.min, geometry.max]).toEqual([0.3, 0.5]);
  });

  it('breaks the line where a version has no value, and draws nothing without values', () => {
    const geometry = acrossGeometry(
      [
        { version: '1', value: 1 },
        { version: '2', value: 2 },
        { version: '3', value: null },
        { version: '4', value: 3 },
        { version: '5', value: 4 }
      ],
      40,
      10
    )!;
    expect(geometry.points[2].y).toBeNull();
    expect(geometry.segments).toHaveLength(2);
    expect(acrossGeometry([{ version: '1', value: null }], 40, 10)).toBeNull();
  });

  it('centres a single version and a constant metric', () => {
    const geometry = acrossGeometry([{ version: '7', value: 2 }], 40, 10)!;
    expect(geometry.points).toEqual([{ version: '7', x: 20, y: 5 }]);
    expect(geometry.segments).toEqual([]);
  });
});
