/**
 * The server extension's REST API, through Jupyter's ServerConnection (its auth and XSRF).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  IActiveGroupChange,
  IAliasChange,
  IAliasRecord,
  IArtifactListing,
  IArtifactPreview,
  IComparison,
  IMetricAcrossVersions,
  IDeployment,
  IDeploymentRemoved,
  IDeployments,
  IEdits,
  IGroupStatus,
  IGroups,
  IJob,
  IMetricHistory,
  IModel,
  IModelsPage,
  IProblem,
  IRequests,
  IVersion,
  Direction,
  PreviewKind
} from './types';

const API = 'mlflow-groups/api';

/** A refused or failed call, with the API's code, message and hint. */
export class ApiError extends Error implements IProblem {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string
  ) {
    super(message);
  }
}

/** A list is sent as the same name repeated (`direction=a:max&direction=b:min`). */
type Query = Record<string, string | number | boolean | string[] | null | undefined>;

function queryString(query: Query): string {
  const pairs = Object.entries(query).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value])
      .filter(item => item !== undefined && item !== null && item !== false && item !== '')
      .map(item => `${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`)
  );
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/** The server's answer to a call, refusals thrown as ApiError. */
async function request(
  path: string[],
  query: Query = {},
  init: RequestInit = {}
): Promise<Response> {
  const settings = ServerConnection.makeSettings();
  const segments = path.map(encodeURIComponent);
  const url = URLExt.join(settings.baseUrl, API, ...segments) + queryString(query);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(
      0,
      'network',
      `The Jupyter server did not answer: ${error}`,
      'Check that the Jupyter server is still running.'
    );
  }
  if (!response.ok) {
    const body = parsed(await response.text());
    const error = body?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? 'error',
      error.message ?? `${response.status} ${response.statusText}`,
      error.hint ?? ''
    );
  }
  return response;
}

function parsed(text: string): any {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

async function call<T>(
  path: string[],
  query: Query = {},
  init: RequestInit = {}
): Promise<T> {
  const response = await request(path, query, init);
  return parsed(await response.text()) as T;
}

function send<T>(method: string, path: string[], payload: unknown): Promise<T> {
  return call<T>(path, {}, { method, body: JSON.stringify(payload) });
}

export interface IPageQuery {
  pageToken?: string | null;
  refresh?: boolean;
}

export const api = {
  groups: (): Promise<IGroups> => call(['groups']),

  setActive: (group: string): Promise<IActiveGroupChange> =>
    send('PUT', ['active'], { group }),

  status: (group: string): Promise<IGroupStatus> =>
    call(['groups', group, 'status']),

  models: (
    group: string,
    filter: string,
    { pageToken, refresh }: IPageQuery
  ): Promise<IModelsPage> =>
    call(['groups', group, 'models'], {
      filter,
      page_token: pageToken,
      refresh: refresh && 1
    }),

  model: (
    group: string,
    name: string,
    { pageToken, refresh }: IPageQuery
  ): Promise<IModel> =>
    call(['groups', group, 'models', name], {
      page_token: pageToken,
      refresh: refresh && 1
    }),

  version: (
    group: string,
    name: string,
    version: string,
    refresh = false
  ): Promise<IVersion> =>
    call(['groups', group, 'models', name, 'versions', version], {
      refresh: refresh && 1
    }),

  /** 2-10 versions side by side; `directions` overrides which way metrics are better. */
  metricAcrossVersions: (
    group: string,
    name: string,
    key: string,
    refresh = false
  ): Promise<IMetricAcrossVersions> =>
    call(['groups', group, 'models', name, 'metrics', key], {
      refresh: refresh && 1
    }),

  compare: (
    group: string,
    name: string,
    versions: string[],
    directions: Record<string, Direction> = {},
    refresh = false
  ): Promise<IComparison> =>
    call(['groups', group, 'models', name, 'compare'], {
      versions: versions.join(','),
      direction: Object.entries(directions).map(([key, way]) => `${key}:${way}`),
      refresh: refresh && 1
    }),

  metricHistory: (
    group: string,
    runId: string,
    key: string,
    refresh = false
  ): Promise<IMetricHistory> =>
    call(['groups', group, 'runs', runId, 'metrics', key], {
      refresh: refresh && 1
    }),

  deployments: (group: string): Promise<IDeployments> =>
    call(['groups', group, 'deployments']),

  deploy: (
    group: string,
    deployment: string,
    model: string,
    version: string
  ): Promise<{ job: IJob }> =>
    send('POST', ['groups', group, 'deployments'], {
      name: deployment,
      model,
      version
    }),

  /** Stops a deployment's model server (it keeps its files; start serves it again). */
  stopDeployment: (group: string, name: string): Promise<IDeployment> =>
    call(['groups', group, 'deployments', name, 'stop'], {}, { method: 'POST' }),

  startDeployment: (group: string, name: string): Promise<IDeployment> =>
    call(['groups', group, 'deployments', name, 'start'], {}, { method: 'POST' }),

  /** Stops serving and removes the deployment and its files. */
  removeDeployment: (group: string, name: string): Promise<IDeploymentRemoved> =>
    call(['groups', group, 'deployments', name], {}, { method: 'DELETE' }),

  /** Points `alias` at `version`: applied (200) or, for a member and a protected alias, a
   * request an admin decides (202). */
  setAlias: (
    group: string,
    model: string,
    alias: string,
    version: string,
    reason: string
  ): Promise<IAliasChange> =>
    send('PUT', ['groups', group, 'models', model, 'aliases', alias], { version, reason }),

  removeAlias: (
    group: string,
    model: string,
    alias: string,
    reason: string
  ): Promise<IAliasChange> =>
    send('DELETE', ['groups', group, 'models', model, 'aliases', alias], { reason }),

  editVersion: (
    group: string,
    model: string,
    version: string,
    edits: IEdits
  ): Promise<IVersion> =>
    send('PATCH', ['groups', group, 'models', model, 'versions', version], edits),

  /** Every record (pending requests, decided ones, changes made at once), newest first. */
  requests: (group: string): Promise<IRequests> =>
    call(['groups', group, 'requests'], { all: 1 }),

  decideRequest: (
    group: string,
    id: string,
    approve: boolean,
    comment: string
  ): Promise<IAliasRecord> =>
    send('POST', ['groups', group, 'requests', id, approve ? 'approve' : 'reject'], {
      comment
    }),

  artifacts: (
    group: string,
    runId: string,
    path: string,
    refresh = false
  ): Promise<IArtifactListing> =>
    call(['groups', group, 'runs', runId, 'artifacts'], {
      path,
      refresh: refresh && 1
    }),

  /** A previewable file's bytes, with the kind the server decided (never the store). */
  artifact: async (
    group: string,
    runId: string,
    path: string
  ): Promise<IArtifactPreview> => {
    const response = await request(['groups', group, 'runs', runId, 'artifact'], {
      path
    });
    const kind = (response.headers.get('X-Artifact-Preview') ?? 'text') as PreviewKind;
    return { kind, blob: await response.blob() };
  },

  job: (id: string): Promise<IJob> => call(['jobs', id]),

  cancelJob: (id: string): Promise<IJob> =>
    call(['jobs', id], {}, { method: 'DELETE' })
};

/** Any failure as a problem to show (errors that are not the API's included). */
export function asProblem(error: unknown): IProblem {
  if (error instanceof ApiError) {
    return error;
  }
  return { code: 'error', message: String(error), hint: '' };
}
