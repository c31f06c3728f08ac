/**
 * The group picker: the user's groups, the active one selected, and a dot for its health.
 */
import {
  HTMLSelect,
  ToolbarButtonComponent,
  refreshIcon
} from '@jupyterlab/ui-components';
import React from 'react';

import { mlflowIcon } from '../icon';
import { IGroupStatus, IGroups } from '../types';
import { IRequestState } from '../useRequest';
import { MlflowUiLink } from './MlflowUiLink';

type Health = 'checking' | 'ok' | 'off' | 'failing';

function healthOf(status: IRequestState<IGroupStatus>): [Health, string] {
  if (status.loading) {
    return ['checking', 'Checking the MLflow server…'];
  }
  if (status.problem) {
    return ['failing', status.problem.message];
  }
  const report = status.data;
  if (!report) {
    return ['checking', 'Checking the MLflow server…'];
  }
  if (report.ok) {
    return ['ok', report.message];
  }
  return [report.code === 'not_configured' ? 'off' : 'failing', report.message];
}

export interface IGroupPickerProps {
  groups: IGroups;
  /** The active group's MLflow UI, if it has one. */
  uiUrl: string | null;
  status: IRequestState<IGroupStatus>;
  onSwitch: (group: string) => void;
  onRefresh: () => void;
}

export function GroupPicker(props: IGroupPickerProps): JSX.Element {
  const [health, description] = healthOf(props.status);
  const options = props.groups.groups.map(group => ({
    value: group.name,
    label: group.valid ? group.name : `${group.name} (not set up)`
  }));
  return (
    <div className="jp-MlflowGroups-groupBar">
      <label className="jp-MlflowGroups-groupLabel" htmlFor="jp-MlflowGroups-group">
        Group
      </label>
      <HTMLSelect
        id="jp-MlflowGroups-group"
        className="jp-MlflowGroups-groupSelect"
        value={props.groups.active ?? ''}
        options={options}
        onChange={event => props.onSwitch(event.currentTarget.value)}
        title="The active MLflow group: new kernels use it"
      />
      <span
        className={`jp-MlflowGroups-health jp-mod-${health}`}
        data-health={health}
        role="img"
        aria-label={`MLflow health: ${description}`}
        title={description}
      />
      {props.uiUrl && (
        <MlflowUiLink href={props.uiUrl} label="Open MLflow UI" className="jp-MlflowGroups-uiLink">
          <mlflowIcon.react tag="span" />
        </MlflowUiLink>
      )}
      <ToolbarButtonComponent
        icon={refreshIcon}
        tooltip="Refresh: ask MLflow again"
        onClick={props.onRefresh}
      />
    </div>
  );
}
