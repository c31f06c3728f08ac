/**
 * The shapes of the server extension's REST API: docs/architecture.md outlines it,
 * jupyter_mlflow_groups/openapi.yaml is the contract.
 */

/** What went wrong and what to do about it: every error and failed status has these. */
export interface IProblem {
  code: string;
  message: string;
  hint: string;
}

export interface IBindingProblem {
  group: string;
  field: string;
  message: string;
}

export interface IGroup {
  name: string;
  mode: string;
  tracking_uri: string | null;
  ui_url: string | null;
  workspace: string | null;
  auth: string;
  valid: boolean;
  problems: IBindingProblem[];
  active: boolean;
  admin: boolean;
  /** Who may change the registry through Jupyter, and which aliases only admins move. */
  registry?: IRegistryPolicy;
}

export type RegistryWriters = 'members' | 'admins' | 'nobody';

/** The group's registry policy as its binding summary shows it (never its write_env). */
export interface IRegistryPolicy {
  write: RegistryWriters;
  protected_aliases: string[];
}

export type AliasRecordStatus = 'pending' | 'applied' | 'approved' | 'rejected' | 'failed';

/** An alias change made or asked through Jupyter, as recorded in the group's MLflow. */
export interface IAliasRecord {
  id: string;
  action: 'set' | 'remove';
  model: string;
  alias: string;
  version: string | null;
  previous: string | null;
  requested_by: string;
  requested_at: string | null;
  reason: string | null;
  status: AliasRecordStatus;
  decided_by: string | null;
  decided_at: string | null;
  comment: string | null;
  message: string | null;
  ui_url: string | null;
}

/** A PUT or DELETE of an alias: made (`record`) or asked of an admin (`request`). */
export interface IAliasChange {
  applied: boolean;
  record?: IAliasRecord;
  request?: IAliasRecord;
}

export interface IRequests {
  group: string;
  requests: IAliasRecord[];
}

/** A PATCH of a model or version: a new description, tags set (a string) or removed (null). */
export interface IEdits {
  description?: string;
  tags?: Record<string, string | null>;
}

export interface IGroups {
  user: string;
  active: string | null;
  default: string | null;
  groups: IGroup[];
  errors: string[];
}

export interface IActiveGroupChange {
  active: string;
  group: IGroup;
  message: string;
}

export interface IGroupStatus extends IProblem {
  group: string;
  configured: boolean;
  reachable: boolean | null;
  ok: boolean;
  server_version: string | null;
  latency_ms: number | null;
  tracking_uri: string | null;
}

export interface IModelSummary {
  name: string;
  description: string;
  last_modified: string | null;
  latest_version: string | null;
  aliases: Record<string, string>;
  ui_url: string | null;
}

export interface IModelsPage {
  models: IModelSummary[];
  next_page_token: string | null;
}

export interface IVersionRow {
  version: string;
  status: string | null;
  registered_at: string | null;
  description: string;
  aliases: string[];
  deployed_by: string[];
  run_id: string | null;
  tags: Record<string, string>;
}

export interface IModel extends IModelSummary {
  versions: IVersionRow[];
  next_page_token: string | null;
}

export interface IMetricValue {
  value: number;
  step: number;
}

export interface IRun {
  run_id: string;
  run_name?: string | null;
  status?: string | null;
  start_time?: string | null;
  ui_url?: string | null;
  params?: Record<string, string>;
  metrics?: Record<string, IMetricValue>;
  tags?: Record<string, string>;
  missing?: boolean;
  message?: string;
}

/** One column of a signature (MLflow's column-based schema), or one tensor. */
export interface ISignatureField {
  name?: string;
  type: string;
  required?: boolean;
  /** A tensor's element type and shape. */
  'tensor-spec'?: { dtype: string; shape: number[] };
}

/** What the model takes and returns, from its MLmodel file. */
export interface ISignature {
  inputs: ISignatureField[] | null;
  outputs: ISignatureField[] | null;
}

export interface IVersion extends IVersionRow {
  name: string;
  model_uri: string;
  load_snippet: string;
  ui_url: string | null;
  run: IRun | null;
  /** Null when the version has none (or its MLmodel file could not be read). */
  signature: ISignature | null;
}

export interface IMetricPoint {
  step: number;
  value: number;
  /** When it was logged (ms since the epoch); missing from older servers. */
  timestamp?: number | null;
}

export interface IMetricHistory {
  key: string;
  history: IMetricPoint[];
}

/** Which way a metric is better: higher (`max`) or lower (`min`). */
export type Direction = 'max' | 'min';

/** `{key: {version: value}}`, null where a version lacks the key. */
export type CompareTable<T> = Record<string, Record<string, T | null>>;

/** A compared version's source run (its identity and where to see it). */
export interface ICompareRun {
  run_id: string;
  run_name: string | null;
  status: string | null;
  start_time: string | null;
  end_time: string | null;
  ui_url: string | null;
  missing: boolean | null;
}

/** One column of a comparison: a version, however many names it was asked by. */
export interface ICompareVersion {
  version: string;
  requested: string[];
  aliases: string[];
  status: string | null;
  registered_at: string | null;
  description: string | null;
  deployed_by: string[];
  model_uri: string | null;
  ui_url: string | null;
  run: ICompareRun | null;
}

/** One metric in each of a model's latest versions (GET .../models/{name}/metrics/{key}). */
export interface IMetricAcrossVersions {
  group: string;
  name: string;
  key: string;
  direction: Direction;
  /** Oldest version first; `value` null where its run lacks the metric. */
  versions: { version: string; value: number | null; step: number | null; aliases: string[] }[];
  best: string[];
  /** Older versions exist beyond these. */
  more: boolean;
}

/** Versions side by side (GET .../models/{name}/compare). */
export interface IComparison {
  group: string;
  name: string;
  versions: ICompareVersion[];
  params: CompareTable<string>;
  metrics: CompareTable<number>;
  directions: Record<string, Direction>;
  /** Each metric's best version(s); empty when fewer than two versions have it. */
  best: Record<string, string[]>;
  tags: CompareTable<string>;
  run_tags: CompareTable<string>;
  signatures: Record<string, ISignature | null>;
  /** Each version's model files, as MLflow lists them (null: it cannot). */
  sizes: Record<string, IModelSize | null>;
  /** The keys whose values are not the same in every version. */
  differences: {
    params: string[];
    metrics: string[];
    tags: string[];
    run_tags: string[];
    signature: boolean;
  };
}

export type DeploymentStatus =
  | 'deploying'
  | 'starting'
  | 'serving'
  | 'stopped'
  | 'failed';

export interface IDeployment {
  name: string;
  group: string;
  model: string;
  version: string;
  requested: string;
  status: DeploymentStatus;
  /** A local deployment's endpoint: a path on this server (`invocations`, `ping` under it). */
  endpoint: string | null;
  invocations_url: string | null;
  updated_at: string | null;
  updated_by: string | null;
  job: string | null;
  message: string | null;
  /** The served version in the group's MLflow UI. */
  ui_url: string | null;
  /** It follows its `requested` alias. */
  follow?: boolean;
  /** Newest first. */
  history?: IDeploymentChange[];
}

/** One change of what a deployment serves. */
export interface IDeploymentChange {
  at: string | null;
  by: string | null;
  from_version: string | null;
  to_version: string | null;
  /** Such as "followed @champion from v3 to v4". */
  note: string | null;
}

/** What removing a deployment answers. */
export interface IDeploymentRemoved {
  group: string;
  deleted: string;
}

export interface IDeployments {
  group: string;
  target: string;
  deployments: IDeployment[];
}

export type JobState =
  | 'queued'
  | 'planning'
  | 'copying'
  | 'verifying'
  | 'swapping'
  | 'serving'
  | 'done'
  | 'failed'
  | 'cancelled';

export interface IJob {
  id: string;
  group: string;
  deployment: string;
  model: string;
  requested: string;
  version: string | null;
  state: JobState;
  bytes_done: number;
  bytes_total: number | null;
  files_done: number;
  files_total: number | null;
  rate_bytes_per_s: number | null;
  eta_s: number | null;
  error: IProblem | null;
  /** A local deployment's endpoint (a path on this server), or a remote target's. */
  endpoint: string | null;
  /** Once done, a local deployment's path to POST JSON to. */
  invocations_url?: string | null;
  finished_at?: string | null;
  /** Whether a cancel can still stop it (no longer once it switches the deployment over);
   * missing from older servers: then while it is not finished. */
  cancellable?: boolean;
}

/** The states a job ends in: it is polled until it reaches one. */
export const FINISHED_JOB_STATES: ReadonlySet<JobState> = new Set<JobState>([
  'done',
  'failed',
  'cancelled'
]);

/** How the server previews a file (null: it does not). */
export type PreviewKind = 'image' | 'text' | 'json' | 'csv' | 'tsv';

/** An entry of one directory level of a run's artifacts. */
export interface IArtifactEntry {
  path: string;
  name: string;
  is_dir: boolean;
  file_size: number | null;
  preview: PreviewKind | null;
}

export interface IArtifactListing {
  group: string;
  run_id: string;
  path: string;
  parent: string | null;
  /** The run's page in the MLflow UI. */
  ui_url: string | null;
  files: IArtifactEntry[];
}

/** A file's preview as fetched: its kind (the server's), and its bytes. */
export interface IArtifactPreview {
  kind: PreviewKind;
  blob: Blob;
}

/** A model's files: their total bytes and how many. */
export interface IModelSize {
  bytes: number;
  files: number;
}
