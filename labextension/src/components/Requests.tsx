/**
 * The Requests tab: the group's alias requests, pending ones first, then the history of
 * decisions and changes made at once. Who asked what and why, when, its state; an admin
 * approves or rejects a pending one here.
 */
import { Button } from '@jupyterlab/ui-components';
import React from 'react';

import { requestSummary } from '../aliases';
import { decideRequest } from '../dialogs';
import { IAliasRecord, IRequests } from '../types';
import { IRequestState } from '../useRequest';
import { Loading } from './Loading';
import { MlflowUiLink } from './MlflowUiLink';
import { ProblemNotice } from './Problem';
import { Time } from './Time';

export interface IRequestsProps {
  group: string;
  admin: boolean;
  requests: IRequestState<IRequests>;
  onChanged: () => void;
}

export function Requests(props: IRequestsProps): JSX.Element {
  const { requests } = props;
  if (!requests.data) {
    return requests.problem ? (
      <ProblemNotice problem={requests.problem} />
    ) : (
      <Loading label="Loading the group's requests…" />
    );
  }
  const records = requests.data.requests;
  const pending = records.filter(record => record.status === 'pending');
  const decided = records.filter(record => record.status !== 'pending');
  return (
    <div className="jp-MlflowGroups-requests">
      <section aria-labelledby="jp-MlflowGroups-pendingTitle">
        <h3 id="jp-MlflowGroups-pendingTitle">Pending</h3>
        {pending.length === 0 ? (
          <p className="jp-MlflowGroups-empty">
            No request waits for a decision. A member's move of a protected alias shows here.
          </p>
        ) : (
          <RecordList {...props} records={pending} />
        )}
        {!props.admin && pending.length > 0 && (
          <p className="jp-MlflowGroups-muted">An admin of the group approves or rejects them.</p>
        )}
      </section>
      {decided.length > 0 && (
        <section aria-labelledby="jp-MlflowGroups-historyTitle">
          <h3 id="jp-MlflowGroups-historyTitle">History</h3>
          <RecordList {...props} records={decided} />
        </section>
      )}
    </div>
  );
}

function RecordList(props: IRequestsProps & { records: IAliasRecord[] }): JSX.Element {
  return (
    <ul className="jp-MlflowGroups-requestList">
      {props.records.map(record => (
        <RequestItem key={record.id} {...props} record={record} />
      ))}
    </ul>
  );
}

function RequestItem(props: IRequestsProps & { record: IAliasRecord }): JSX.Element {
  const { record, group } = props;
  const decide = (approve: boolean) =>
    void decideRequest(group, record, approve, props.onChanged);
  return (
    <li className="jp-MlflowGroups-request" data-id={record.id} data-status={record.status}>
      <div className="jp-MlflowGroups-requestHead">
        <span className="jp-MlflowGroups-requestWhat">{requestSummary(record)}</span>
        <span className={`jp-MlflowGroups-status jp-mod-${record.status}`}>{record.status}</span>
      </div>
      <div className="jp-MlflowGroups-muted">
        {record.requested_by} · <Time iso={record.requested_at} ago />
      </div>
      {record.reason && <p className="jp-MlflowGroups-requestReason">“{record.reason}”</p>}
      {record.status !== 'pending' && record.status !== 'applied' && record.decided_by && (
        <div className="jp-MlflowGroups-requestDecision">
          {record.status} by {record.decided_by} · <Time iso={record.decided_at} ago />
          {record.comment && <>: “{record.comment}”</>}
          {record.message && <> ({record.message})</>}
        </div>
      )}
      <div className="jp-MlflowGroups-actions">
        {props.admin && record.status === 'pending' && (
          <>
            <Button small onClick={() => decide(true)}>
              Approve
            </Button>
            <Button small onClick={() => decide(false)}>
              Reject…
            </Button>
          </>
        )}
        {record.ui_url && <MlflowUiLink href={record.ui_url}>Record in MLflow</MlflowUiLink>}
      </div>
    </li>
  );
}
