/**
 * JupyterLab notifications for what waits on someone: a group admin is told when a promotion
 * request waits for review, a member when a deployment followed its alias. Both are found by
 * reading the group again when a live update says its requests or deployments changed.
 */
import { Notification } from '@jupyterlab/apputils';

import { requestSummary } from './aliases';
import { api } from './api';
import { IChange, newFollows, newRequests } from './live';

export interface INotifierActions {
  showRequests: () => void;
  showDeployments: () => void;
}

export class ChangeNotifier {
  /** Follows from before the page was opened are old news. */
  private readonly _since = new Date().toISOString();
  private readonly _toldRequests = new Set<string>();
  private readonly _toldFollows = new Set<string>();

  constructor(private readonly _actions: INotifierActions) {}

  async changed(change: IChange): Promise<void> {
    if (change.topic === 'requests') {
      await this._requests(change.group);
    } else if (change.topic === 'deployments') {
      await this._follows(change.group);
    }
  }

  private async _requests(group: string): Promise<void> {
    const groups = await api.groups();
    if (!groups.groups.find(candidate => candidate.name === group)?.admin) {
      return; // only an admin of the group can act on its requests
    }
    const pending = (await api.requests(group)).requests.filter(
      record => record.status === 'pending'
    );
    const fresh = new Set(newRequests(pending.map(record => record.id), this._toldRequests));
    for (const record of pending.filter(candidate => fresh.has(candidate.id))) {
      const why = record.reason ? `: "${record.reason}"` : '';
      Notification.info(
        `${record.requested_by} asks, in group ${group}: ${requestSummary(record)}${why}`,
        {
          autoClose: false,
          actions: [{ label: 'Review', callback: () => this._actions.showRequests() }]
        }
      );
    }
  }

  private async _follows(group: string): Promise<void> {
    const { deployments } = await api.deployments(group);
    for (const [name, note] of newFollows(deployments, this._since, this._toldFollows)) {
      Notification.success(`Deployment ${name} of group ${group} ${note}.`, {
        autoClose: 10000,
        actions: [{ label: 'Show', callback: () => this._actions.showDeployments() }]
      });
    }
  }
}
