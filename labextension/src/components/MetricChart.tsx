/**
 * A small line chart of one metric's whole history (SVG, coloured by the theme).
 */
import React from 'react';

import { api } from '../api';
import { chartLine } from '../chart';
import { formatNumber } from '../format';
import { useRequest } from '../useRequest';

const WIDTH = 240;
const HEIGHT = 48;

export interface IMetricChartProps {
  group: string;
  runId: string;
  metric: string;
  reload: number;
}

export function MetricChart(props: IMetricChartProps): JSX.Element {
  const { group, runId, metric, reload } = props;
  const history = useRequest(
    fresh => api.metricHistory(group, runId, metric, fresh),
    JSON.stringify([group, runId, metric]),
    reload
  );
  if (history.problem) {
    return (
      <div className="jp-MlflowGroups-chartNote" title={history.problem.hint}>
        No history: {history.problem.message}
      </div>
    );
  }
  if (!history.data) {
    return <div className="jp-MlflowGroups-chart jp-mod-loading" aria-busy="true" />;
  }
  const points = history.data.history;
  const line = chartLine(points, WIDTH, HEIGHT);
  if (!line) {
    return (
      <div className="jp-MlflowGroups-chartNote">
        {points.length === 1 ? 'One value, no history to draw.' : 'No values logged.'}
      </div>
    );
  }
  const summary =
    `${metric}: ${points.length} values from step ${line.firstStep} to ${line.lastStep}, ` +
    `between ${formatNumber(line.min)} and ${formatNumber(line.max)}`;
  return (
    <figure className="jp-MlflowGroups-chart" data-metric={metric}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={summary}
      >
        <title>{summary}</title>
        <polyline points={line.points} vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption>
        <span>
          steps {line.firstStep}–{line.lastStep}
        </span>
        <span>
          {formatNumber(line.min)} – {formatNumber(line.max)}
        </span>
      </figcaption>
    </figure>
  );
}
