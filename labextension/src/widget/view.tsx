/**
 * The chart widgets' models and views for ipywidgets (@jupyter-widgets/base, shared with
 * JupyterLab's widget manager): MetricChart draws the sidebar's OverlayChart, and
 * AcrossVersionsChart the compare tab's chart of one metric across versions.
 */
import { DOMWidgetModel, DOMWidgetView, ISerializers } from '@jupyter-widgets/base';
import React from 'react';
import { Root, createRoot } from 'react-dom/client';

import { MetricChartWidget } from './MetricChartWidget';
import { AcrossVersionsPlot } from '../components/AcrossVersionsChart';
import { acrossState, chartState } from './props';
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

/** A view that renders React content into its element, again at every change of its model,
 * and unmounts it when removed. */
abstract class ReactWidgetView extends DOMWidgetView {
  private root: Root | null = null;

  protected abstract cssClass: string;

  protected abstract content(): JSX.Element;

  render(): void {
    this.el.classList.add(this.cssClass);
    this.root = createRoot(this.el);
    this.listenTo(this.model, 'change', () => this.draw());
    this.draw();
  }

  private draw(): void {
    this.root?.render(this.content());
  }

  protected write(name: string, value: unknown): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  remove(): void {
    this.root?.unmount();
    this.root = null;
    super.remove();
  }
}

export class MetricChartView extends ReactWidgetView {
  protected cssClass = 'jp-MlflowGroups-widgetChart';

  protected content(): JSX.Element {
    return (
      <MetricChartWidget
        state={chartState(this.model)}
        onAxis={axis => this.write('x_axis', axis)}
        onSmoothing={smoothing => this.write('smoothing', smoothing)}
      />
    );
  }
}

export class AcrossVersionsChartModel extends DOMWidgetModel {
  defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      _model_name: AcrossVersionsChartModel.model_name,
      _model_module: AcrossVersionsChartModel.model_module,
      _model_module_version: AcrossVersionsChartModel.model_module_version,
      _view_name: AcrossVersionsChartModel.view_name,
      _view_module: AcrossVersionsChartModel.view_module,
      _view_module_version: AcrossVersionsChartModel.view_module_version,
      across: null
    };
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };

  static model_name = 'AcrossVersionsChartModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'AcrossVersionsChartView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;
}

export class AcrossVersionsChartView extends ReactWidgetView {
  protected cssClass = 'jp-MlflowGroups-widgetChart';

  protected content(): JSX.Element {
    const across = acrossState(this.model);
    return (
      <div className="jp-MlflowGroups-widgetChartBody">
        {across && <AcrossVersionsPlot across={across} />}
      </div>
    );
  }
}
