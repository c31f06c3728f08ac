/**
 * Compare tabs in the main area: one per group, model and set of versions (opening it again
 * brings it to the front), tracked so the layout restorer reopens them after a reload.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { Loading } from '../components/Loading';
import { OpenMlflowUi } from '../components/MlflowUiLink';
import { mlflowIcon } from '../icon';
import { loadedOnShow } from '../lazy';
import { ICompareArgs, compareTitle, normalVersions } from './context';

/** The comparison (its tables and charts) is loaded when a compare tab first opens. */
const CompareView = loadedOnShow(
  () => import(/* webpackChunkName: "compare" */ './CompareView'),
  'CompareView',
  <Loading label="Comparing the versions…" />
);

/** The tab's content: the comparison, its MLflow links opening through the UI command. */
export class CompareWidget extends ReactWidget {
  constructor(
    readonly args: ICompareArgs,
    private readonly _openMlflowUi: (url: string) => void
  ) {
    super();
    this.addClass('jp-MlflowGroups-compareTab');
  }

  render(): JSX.Element {
    const { group, model, versions } = this.args;
    return (
      <OpenMlflowUi.Provider value={this._openMlflowUi}>
        <CompareView group={group} model={model} versions={versions} />
      </OpenMlflowUi.Provider>
    );
  }
}

export type CompareTab = MainAreaWidget<CompareWidget>;

export class CompareTabs {
  readonly tracker = new WidgetTracker<CompareTab>({ namespace: 'mlflow-groups-compare' });

  constructor(
    private readonly _shell: JupyterFrontEnd.IShell,
    private readonly _openMlflowUi: (url: string) => void
  ) {}

  /** The tab of these versions, opened or brought to the front. */
  open(asked: ICompareArgs): CompareTab {
    const args = { ...asked, versions: normalVersions(asked.versions) };
    const id = `jp-MlflowGroups-compare-${encodeURIComponent(
      JSON.stringify([args.group, args.model, args.versions])
    )}`;
    let widget = this.tracker.find(candidate => candidate.id === id);
    if (!widget) {
      widget = new MainAreaWidget({ content: new CompareWidget(args, this._openMlflowUi) });
      widget.id = id;
      widget.title.label = compareTitle(args.model, args.versions);
      widget.title.caption = `${widget.title.label}, in group ${args.group}`;
      widget.title.icon = mlflowIcon;
      widget.title.closable = true;
      void this.tracker.add(widget);
      this._shell.add(widget, 'main');
    }
    this._shell.activateById(widget.id);
    return widget;
  }
}
