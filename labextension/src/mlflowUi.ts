/**
 * A group's MLflow UI in a main-area tab: the UI this Jupyter server proxies (same-origin
 * content, with Jupyter's auth) in an IFrame, one tab per group. A UI at its own address (a
 * `direct` group) opens in a browser tab instead.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { IFrame, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { ToolbarButton, launchIcon, refreshIcon } from '@jupyterlab/ui-components';

import { mlflowIcon } from './icon';

/** What MLflow's single-page app needs: its scripts, its own origin's API, forms, downloads
 * and the links it opens in new tabs. */
const SANDBOX: IFrame.SandboxExceptions[] = [
  'allow-scripts',
  'allow-same-origin',
  'allow-forms',
  'allow-popups',
  'allow-downloads'
];

/** Where the server's proxy shows a group's MLflow, under the base URL (see links.py). */
const GROUP_UI = /^mlflow-groups\/groups\/([^/]+)\/mlflow(\/|$)/;

const ABSOLUTE = /^[a-z][a-z\d+.-]*:/i;

export type MlflowUiWidget = MainAreaWidget<IFrame>;

function basePath(): string {
  return new URL(PageConfig.getBaseUrl(), window.location.href).pathname;
}

/** `url` (a path, or an absolute URL) when it is on this Jupyter server, under its base URL;
 * else null: an address of its own (or no URL at all, such as a remote endpoint's name). */
export function labUrl(url: string): URL | null {
  const isPath = url.startsWith('/') && !url.startsWith('//');
  if (!isPath && !ABSOLUTE.test(url)) {
    return null;
  }
  let resolved: URL;
  try {
    resolved = new URL(url, window.location.href);
  } catch {
    return null;
  }
  return resolved.origin === window.location.origin && resolved.pathname.startsWith(basePath())
    ? resolved
    : null;
}

/** The group whose MLflow UI a URL on this server shows. */
function groupOf(url: URL): string | null {
  const match = GROUP_UI.exec(url.pathname.slice(basePath().length));
  return match ? decodeURIComponent(match[1]) : null;
}

/** The open MLflow UI tabs, tracked for the layout restorer. */
export class MlflowUiTabs {
  readonly tracker = new WidgetTracker<MlflowUiWidget>({ namespace: 'mlflow-groups-ui' });

  constructor(private readonly _shell: JupyterFrontEnd.IShell) {}

  /** Opens `url`: in the group's tab (reused, navigated, activated) when it is on this
   * server, else in a new browser tab. */
  open(url: string): void {
    const local = labUrl(url);
    if (!local) {
      if (!/^https?:\/\//i.test(url)) {
        throw new Error(`Not an MLflow UI address: ${url}`);
      }
      window.open(url, '_blank', 'noopener');
      return;
    }
    const group = groupOf(local);
    const id = `jp-MlflowGroups-ui-${encodeURIComponent(group ?? '')}`;
    const path = local.pathname + local.search + local.hash;
    let widget = this.tracker.find(candidate => candidate.id === id);
    if (widget) {
      widget.content.url = path;
      void this.tracker.save(widget);
    } else {
      widget = this._create(id, group, path);
      void this.tracker.add(widget);
      this._shell.add(widget, 'main');
    }
    this._shell.activateById(widget.id);
  }

  private _create(id: string, group: string | null, path: string): MlflowUiWidget {
    const content = new IFrame({ sandbox: SANDBOX });
    content.url = path;
    const widget = new MainAreaWidget({ content });
    widget.id = id;
    widget.addClass('jp-MlflowGroups-ui');
    widget.title.label = group ? `MLflow: ${group}` : 'MLflow';
    widget.title.caption = group
      ? `The MLflow UI of group ${group}: experiments, runs, models, artifacts`
      : 'MLflow UI';
    widget.title.icon = mlflowIcon;
    widget.title.closable = true;
    widget.toolbar.addItem(
      'reload',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'Reload this MLflow page',
        onClick: () => frameWindow(content)?.location.reload()
      })
    );
    widget.toolbar.addItem(
      'open-in-browser-tab',
      new ToolbarButton({
        icon: launchIcon,
        tooltip: 'Open this MLflow page in a browser tab',
        onClick: () =>
          window.open(frameWindow(content)?.location.href ?? content.url, '_blank', 'noopener')
      })
    );
    return widget;
  }
}

/** The page shown in the tab (same-origin: its location is readable). */
function frameWindow(content: IFrame): Window | null {
  return content.node.querySelector('iframe')?.contentWindow ?? null;
}
