/**
 * Live updates: the server extension's `changed` events, from Jupyter Server's event stream
 * through JupyterLab's event manager. An event names a group and what kind of thing changed;
 * the sidebar reads its views again (once for a burst of events), a group admin is told when
 * a promotion request waits, and a member when a followed deployment moved.
 */
import { Event } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { Debouncer } from '@lumino/polling';

export const CHANGED_SCHEMA = 'https://events.jupyter.org/jupyter_mlflow_groups/changed/v1';

export type ChangeTopic = 'models' | 'aliases' | 'deployments' | 'requests';

export interface IChange {
  group: string;
  topic: ChangeTopic;
  origin: 'jupyter' | 'webhook' | 'poll';
}

const TOPICS: readonly string[] = ['models', 'aliases', 'deployments', 'requests'];

/** The change an event of Jupyter's stream carries, if it is one of ours. */
export function asChange(event: Event.Emission): IChange | null {
  if (event.schema_id !== CHANGED_SCHEMA) {
    return null;
  }
  const { group, topic, origin } = event as Record<string, unknown>;
  if (typeof group !== 'string' || typeof topic !== 'string' || !TOPICS.includes(topic)) {
    return null;
  }
  return { group, topic: topic as ChangeTopic, origin: origin as IChange['origin'] };
}

/** A deployment's latest history entry, as the live updates read it. */
export interface IFollowedDeployment {
  name: string;
  history?: { at?: string | null; note?: string | null }[];
}

/**
 * The deployments that followed their alias after `since` (ISO time) and were not told
 * about yet (`told`: "name at" keys, updated): [name, note] pairs.
 */
export function newFollows(
  deployments: IFollowedDeployment[],
  since: string,
  told: Set<string>
): [string, string][] {
  const found: [string, string][] = [];
  for (const deployment of deployments) {
    const latest = deployment.history?.[0];
    const at = latest?.at ?? '';
    const key = `${deployment.name} ${at}`;
    if (latest?.note?.startsWith('followed ') && at > since && !told.has(key)) {
      told.add(key);
      found.push([deployment.name, latest.note]);
    }
  }
  return found;
}

/** Pending request ids not told about yet (`told` is updated). */
export function newRequests(ids: string[], told: Set<string>): string[] {
  const found = ids.filter(id => !told.has(id));
  found.forEach(id => told.add(id));
  return found;
}

export interface ILiveOptions {
  /** Jupyter's event stream (the app's `serviceManager.events.stream`). */
  stream: Event.Stream;
  /** The group the sidebar shows now, null before it knows. */
  activeGroup: () => string | null;
  /** Reads the sidebar's views again. */
  refresh: () => void;
  /** A change of another kind (notifications); its failures are the handler's to show. */
  onChange: (change: IChange) => Promise<void>;
}

/** Connects the sidebar to the event stream until disposed. */
export class LiveUpdates implements IDisposable {
  private readonly _refresh: Debouncer;
  private _disposed = false;

  constructor(private readonly _options: ILiveOptions) {
    // a deployment job or an approval sends a few events at once: read again once for them
    this._refresh = new Debouncer(() => _options.refresh(), 300);
    _options.stream.connect(this._received, this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._options.stream.disconnect(this._received, this);
    this._refresh.dispose();
  }

  private _received(_: unknown, event: Event.Emission): void {
    const change = asChange(event);
    if (!change) {
      return;
    }
    if (change.group === this._options.activeGroup()) {
      void this._refresh.invoke();
    }
    void this._options.onChange(change).catch(error => {
      console.warn('MLflow groups: could not follow a change', change, error);
    });
  }
}
