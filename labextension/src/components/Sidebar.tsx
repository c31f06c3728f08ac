/**
 * The panel: the group picker and its health, deployment jobs, then the Models, Deployments
 * and Requests views (or why the group's MLflow cannot be used).
 */
import { INotebookTracker } from '@jupyterlab/notebook';
import React, { useEffect, useState } from 'react';

import { pendingCount } from '../aliases';
import { api } from '../api';
import { deployVersion } from '../dialogs';
import { loadedOnShow } from '../lazy';
import { SidebarModel } from '../model';
import { insertIntoActiveCell } from '../notebook';
import { switchGroup } from '../switchGroup';
import { IGroup, IGroupStatus, IGroups, IProblem } from '../types';
import { IRequestState, useRequest } from '../useRequest';
import { Deployments } from './Deployments';
import { GroupPicker } from './GroupPicker';
import { Jobs } from './Jobs';
import { Loading } from './Loading';
import { ModelList } from './ModelList';
import { ModelVersions } from './ModelVersions';
import { ProblemNotice } from './Problem';
import { Requests } from './Requests';
import { Tabs } from './Tabs';

/** A version's page (its charts, artifacts and previews) is loaded when first opened. */
const VersionDetail = loadedOnShow(
  () => import(/* webpackChunkName: "version" */ './VersionDetail'),
  'VersionDetail',
  <Loading label="Loading the version…" />
);

export interface ISidebarProps {
  model: SidebarModel;
  notebooks: INotebookTracker | null;
}

export function Sidebar(props: ISidebarProps): JSX.Element {
  const { model } = props;
  const groups = useRequest(() => api.groups(), 'groups', model.reload);
  const group = groups.data?.active ?? null;

  if (groups.problem) {
    return <ProblemNotice problem={groups.problem} />;
  }
  if (!groups.data) {
    return <Loading label="Loading your MLflow groups…" />;
  }
  if (groups.data.groups.length === 0 || !group) {
    return (
      <ProblemNotice
        problem={{
          code: 'no_group',
          message: `${groups.data.user} is in no MLflow group on this server.`,
          hint: 'Ask your Jupyter admin to add you to a group (its members in the bindings file).'
        }}
        details={groups.data.errors}
      />
    );
  }
  return <ActiveGroup {...props} groups={groups.data} group={group} />;
}

interface IActiveGroupProps extends ISidebarProps {
  groups: IGroups;
  group: string;
}

function ActiveGroup(props: IActiveGroupProps): JSX.Element {
  const { model, groups, group } = props;
  const status = useRequest(() => api.status(group), `status:${group}`, model.reload);
  useEffect(() => {
    model.activeGroup = group;
  }, [model, group]);
  const binding = groups.groups.find(candidate => candidate.name === group);
  return (
    <>
      <GroupPicker
        groups={groups}
        uiUrl={binding?.ui_url ?? null}
        status={status}
        onSwitch={name => void switchGroup(name, model, props.notebooks)}
        onRefresh={() => model.refresh()}
      />
      {groups.errors.length > 0 && (
        <ProblemNotice
          problem={{
            code: 'bindings_file',
            message: 'The bindings file has errors: the last good version is in use.',
            hint: 'Tell your Jupyter admin.'
          }}
          details={groups.errors}
        />
      )}
      <Jobs jobs={model.jobs} onShowDeployments={() => model.showTab('deployments')} />
      <GroupBody {...props} group={group} binding={binding} status={status} />
    </>
  );
}

interface IGroupBodyProps extends ISidebarProps {
  group: string;
  binding: IGroup | undefined;
  status: IRequestState<IGroupStatus>;
}

function GroupBody(props: IGroupBodyProps): JSX.Element {
  const { model, group, status } = props;
  const report = status.data;
  if (!report) {
    return status.problem ? (
      <ProblemNotice problem={status.problem} />
    ) : (
      <Loading label={`Checking the MLflow server of ${group}…`} />
    );
  }
  if (!report.ok) {
    return (
      <ProblemNotice problem={bindingProblem(group, props.binding) ?? report}>
        <button className="jp-MlflowGroups-linkButton" onClick={() => model.refresh()}>
          Check again
        </button>
      </ProblemNotice>
    );
  }
  return <GroupViews {...props} />;
}

/** The tabs of a group whose MLflow answers; its requests are read once for the badge, the
 * Requests tab and the pending notes of a version, and again each time the Requests tab is
 * chosen (others, on their own servers, ask and decide meanwhile). */
function GroupViews(props: IGroupBodyProps): JSX.Element {
  const { model, group } = props;
  const [looked, setLooked] = useState(0);
  const requests = useRequest(
    () => api.requests(group),
    `requests:${group}`,
    model.reload + looked // both only grow: any change is a new reading
  );
  const records = requests.data?.requests ?? [];
  const pending = records.filter(record => record.status === 'pending');
  const tabs = [
    { id: 'models', label: 'Models' },
    { id: 'deployments', label: 'Deployments' },
    {
      id: 'requests',
      label: 'Requests',
      badge: pendingCount(records),
      badgeLabel: 'pending'
    }
  ];
  const showRequests = () => model.showTab('requests');
  const view = model.view;
  const deploy = (name: string, version: string) =>
    void deployVersion(group, name, version, model.jobs);
  return (
    <>
      <Tabs
        label="MLflow views"
        tabs={tabs}
        selected={model.tab}
        onSelect={id => {
          if (id === 'requests') {
            setLooked(count => count + 1);
          }
          model.showTab(id === 'deployments' || id === 'requests' ? id : 'models');
        }}
      />
      <div className="jp-MlflowGroups-view" hidden={view.kind !== 'models'}>
        <ModelList
          key={group}
          group={group}
          reload={model.reload}
          onOpen={name => model.show({ kind: 'model', name })}
        />
      </div>
      {view.kind === 'model' && (
        <ModelVersions
          key={view.name}
          group={group}
          name={view.name}
          reload={model.reload}
          onBack={() => model.show({ kind: 'models' })}
          onOpenVersion={version => model.show({ kind: 'version', name: view.name, version })}
          onDeploy={version => deploy(view.name, version)}
        />
      )}
      {view.kind === 'version' && (
        <VersionDetail
          key={`${view.name}/${view.version}`}
          group={group}
          name={view.name}
          version={view.version}
          reload={model.reload}
          onBack={() => model.show({ kind: 'model', name: view.name })}
          onChanged={() => model.refresh()}
          onDeploy={() => deploy(view.name, view.version)}
          onInsert={code => insertIntoActiveCell(props.notebooks, code)}
          binding={props.binding}
          pending={pending}
          onRegistryChanged={() => model.refresh()}
          onShowRequests={showRequests}
        />
      )}
      {view.kind === 'deployments' && (
        <Deployments
          group={group}
          reload={model.reload}
          onChanged={() => model.refresh()}
        />
      )}
      {view.kind === 'requests' && (
        <Requests
          group={group}
          admin={props.binding?.admin ?? false}
          requests={requests}
          onChanged={() => model.refresh()}
        />
      )}
    </>
  );
}

/** A binding with wrong fields, said field by field, with whom to ask. */
function bindingProblem(group: string, binding: IGroup | undefined): IProblem | null {
  if (!binding?.problems.length) {
    return null;
  }
  return {
    code: 'not_configured',
    message: `The binding of group '${group}' is not usable: ${binding.problems
      .map(problem => `${problem.field} ${problem.message}`)
      .join('; ')}.`,
    hint: "Ask your admin to fix these fields of the group's binding (in the bindings file)."
  };
}
