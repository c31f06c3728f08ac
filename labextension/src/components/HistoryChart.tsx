/**
 * One metric's histories for versions of a model, read from the API (each run's once), drawn
 * by OverlayChart: the compare tab's chart.
 */
import React from 'react';

import { api, asProblem } from '../api';
import { IMetricPoint, IProblem } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';
import { OverlayChart } from './OverlayChart';

/** A version to draw: its id (the version number), its name, and the run holding its history. */
export interface IOverlaySource {
  id: string;
  label: string;
  runId: string | null;
}

export interface IHistoryChartProps {
  group: string;
  metric: string;
  sources: IOverlaySource[];
  reload: number;
}

type Histories = Record<string, IMetricPoint[] | IProblem>;

/** Each run's history once (versions may share a run); a run without the metric is a problem
 * of its own line, not of the chart. */
async function loadHistories(
  group: string,
  metric: string,
  runIds: string[],
  fresh: boolean
): Promise<Histories> {
  const answers = await Promise.all(
    runIds.map(runId =>
      api.metricHistory(group, runId, metric, fresh).then(
        body => body.history,
        error => asProblem(error)
      )
    )
  );
  return Object.fromEntries(runIds.map((runId, index) => [runId, answers[index]]));
}

export function HistoryChart(props: IHistoryChartProps): JSX.Element {
  const { group, metric, sources, reload } = props;
  const runIds = [...new Set(sources.flatMap(source => (source.runId ? [source.runId] : [])))];
  const histories = useRequest(
    fresh => loadHistories(group, metric, runIds, fresh),
    JSON.stringify([group, metric, runIds]),
    reload
  );
  if (histories.problem) {
    return <p className="jp-MlflowGroups-chartNote">No history: {histories.problem.message}</p>;
  }
  if (!histories.data) {
    return <Loading label={`Loading the history of ${metric}…`} />;
  }
  const data = histories.data;
  return (
    <OverlayChart
      metric={metric}
      series={sources.map(source => {
        const history = source.runId ? data[source.runId] : undefined;
        return {
          id: source.id,
          label: source.label,
          points: Array.isArray(history) ? history : [],
          note: !source.runId
            ? 'no source run'
            : Array.isArray(history)
              ? `${history.length} values`
              : history?.message ?? ''
        };
      })}
    />
  );
}
