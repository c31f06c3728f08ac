/**
 * One metric across a model's versions (x = version): how the metric moved from version to
 * version, the best marked. `AcrossVersionsChart` reads it from the API when shown;
 * `AcrossVersionsPlot` draws an answer it is given.
 */
import React from 'react';

import { api } from '../api';
import { acrossGeometry } from '../compare/acrossVersions';
import { formatNumber } from '../format';
import { IMetricAcrossVersions } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';
import { ProblemNotice } from './Problem';

const WIDTH = 640;
const HEIGHT = 160;
const MARGIN = { left: 64, right: 16, top: 10, bottom: 28 };

export interface IAcrossVersionsChartProps {
  group: string;
  model: string;
  metric: string;
  reload: number;
}

export function AcrossVersionsChart(props: IAcrossVersionsChartProps): JSX.Element {
  const { group, model, metric, reload } = props;
  const across = useRequest(
    fresh => api.metricAcrossVersions(group, model, metric, fresh),
    JSON.stringify([group, model, metric]),
    reload
  );
  if (across.problem) {
    return <ProblemNotice problem={across.problem} />;
  }
  if (!across.data) {
    return <Loading label={`Reading ${metric} in every version…`} />;
  }
  return <AcrossVersionsPlot across={across.data} />;
}

/** The drawing alone, of an answer read elsewhere (here, or by a notebook widget's kernel). */
export function AcrossVersionsPlot(props: { across: IMetricAcrossVersions }): JSX.Element {
  const { key: metric, versions, best, direction, more } = props.across;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const geometry = acrossGeometry(versions, plotWidth, plotHeight);
  if (!geometry) {
    return <p className="jp-MlflowGroups-empty">No version's run logged {metric}.</p>;
  }
  const bestText = best.length ? best.map(version => `v${version}`).join(', ') : 'none';
  const summary =
    `${metric} in ${versions.length} versions, from ${formatNumber(geometry.min)} to ` +
    `${formatNumber(geometry.max)}; best (${direction === 'min' ? 'lowest' : 'highest'}): ` +
    bestText;
  return (
    <figure className="jp-MlflowGroups-across" data-metric={metric}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <title>{summary}</title>
        <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
          <text className="jp-MlflowGroups-axisLabel" x={-8} y={4} textAnchor="end">
            {formatNumber(geometry.max)}
          </text>
          <text className="jp-MlflowGroups-axisLabel" x={-8} y={plotHeight} textAnchor="end">
            {formatNumber(geometry.min)}
          </text>
          {geometry.segments.map(points => (
            <polyline key={points} className="jp-MlflowGroups-acrossLine" points={points} />
          ))}
          {geometry.points.map(point => (
            <g key={point.version}>
              {point.y !== null && (
                <circle
                  className={`jp-MlflowGroups-acrossDot${
                    best.includes(point.version) ? ' jp-mod-best' : ''
                  }`}
                  data-version={point.version}
                  cx={point.x}
                  cy={point.y}
                  r={best.includes(point.version) ? 5 : 3.5}
                />
              )}
              <text
                className="jp-MlflowGroups-axisLabel"
                x={point.x}
                y={plotHeight + 18}
                textAnchor="middle"
              >
                v{point.version}
              </text>
            </g>
          ))}
        </g>
      </svg>
      <figcaption>
        Best ({direction === 'min' ? '↓ lower' : '↑ higher'} is better): {bestText}
        {more && ' · the latest 100 versions'}
      </figcaption>
    </figure>
  );
}
