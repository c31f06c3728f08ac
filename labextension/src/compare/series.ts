/**
 * How each version's line looks on the overlay chart: one of five theme colours (CSS classes,
 * see style/compare.css), then the same colours dashed, so up to ten versions stay apart, and
 * never by colour alone once there are more than five.
 */
export const SERIES_COLOURS = 5;

/** The dash pattern of the nth round of colours: solid, then dashed. */
const DASHES = [undefined, '6 3'];

export interface ISeriesLook {
  className: string;
  dash: string | undefined;
}

export function seriesLook(index: number): ISeriesLook {
  return {
    className: `jp-MlflowGroups-series jp-mod-colour${index % SERIES_COLOURS}`,
    dash: DASHES[Math.floor(index / SERIES_COLOURS) % DASHES.length]
  };
}
