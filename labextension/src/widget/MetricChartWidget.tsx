/**
 * The notebook widget's content: the title, the sidebar's OverlayChart over the model's
 * series (the x axis and smoothing written back to the model, so the kernel sees them), and
 * the note under it.
 */
import React from 'react';

import { XAxis } from '../compare/overlay';
import { OverlayChart } from '../components/OverlayChart';
import { IChartState } from './props';

export interface IMetricChartWidgetProps {
  state: IChartState;
  onAxis: (axis: XAxis) => void;
  onSmoothing: (smoothing: number) => void;
}

export function MetricChartWidget(props: IMetricChartWidgetProps): JSX.Element {
  const { state } = props;
  return (
    <div className="jp-MlflowGroups-widgetChartBody">
      {state.title && <div className="jp-MlflowGroups-chartTitle">{state.title}</div>}
      {state.series.length > 0 ? (
        <OverlayChart
          metric={state.title}
          series={state.series}
          axis={state.axis}
          onAxis={props.onAxis}
          smoothing={state.smoothing}
          onSmoothing={props.onSmoothing}
        />
      ) : null}
      {state.note && <div className="jp-MlflowGroups-chartNote">{state.note}</div>}
    </div>
  );
}
