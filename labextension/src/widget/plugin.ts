/**
 * The notebook widgets' views: registered with ipywidgets' JupyterLab manager when it is there
 * (jupyterlab_widgets, which ipywidgets brings), under the labextension's name and version.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ExportMap, IJupyterWidgetRegistry } from '@jupyter-widgets/base';

import { MODULE_NAME, MODULE_VERSION } from './version';

export const widgetPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlflow-groups:widgets',
  description: 'The views of the notebook widgets MetricChart, RunChart and AcrossVersionsChart.',
  autoStart: true,
  optional: [IJupyterWidgetRegistry],
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry | null) => {
    registry?.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: async (): Promise<ExportMap> => {
        const views = await import(/* webpackChunkName: "widget-view" */ './view');
        return {
          MetricChartModel: views.MetricChartModel,
          MetricChartView: views.MetricChartView,
          AcrossVersionsChartModel: views.AcrossVersionsChartModel,
          AcrossVersionsChartView: views.AcrossVersionsChartView
        };
      }
    });
  }
};
