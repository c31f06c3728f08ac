/**
 * The MetricChart widget's model and view for ipywidgets (@jupyter-widgets/base, shared with
 * JupyterLab's widget manager): the view renders MetricChartWidget into its element with
 * React, again at every change of the model, and unmounts it when removed.
 */
import { DOMWidgetModel, DOMWidgetView, ISerializers } from '@jupyter-widgets/base';
import React from 'react';
import { Root, createRoot } from 'react-dom/client';

import { MetricChartWidget } from './MetricChartWidget';
import { chartState } from './props';
import { MODULE_NAME, MODULE_VERSION } from './version';

export class MetricChartModel extends DOMWidgetModel {
  defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      _model_name: MetricChartModel.model_name,
      _model_module: MetricChartModel.model_module,
      _model_module_version: MetricChartModel.model_module_version,
      _view_name: MetricChartModel.view_name,
      _view_module: MetricChartModel.view_module,
      _view_module_version: MetricChartModel.view_module_version,
      title: '',
      series: [],
      x_axis: 'step',
      smoothing: 0,
      note: ''
    };
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };

  static model_name = 'MetricChartModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'MetricChartView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;
}

export class MetricChartView extends DOMWidgetView {
  private root: Root | null = null;

  render(): void {
    this.el.classList.add('jp-MlflowGroups-widgetChart');
    this.root = createRoot(this.el);
    this.listenTo(this.model, 'change', () => this.draw());
    this.draw();
  }

  private draw(): void {
    this.root?.render(
      <MetricChartWidget
        state={chartState(this.model)}
        onAxis={axis => this.write('x_axis', axis)}
        onSmoothing={smoothing => this.write('smoothing', smoothing)}
      />
    );
  }

  private write(name: string, value: unknown): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  remove(): void {
    this.root?.unmount();
    this.root = null;
    super.remove();
  }
}
