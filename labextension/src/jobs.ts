/**
 * Deployment jobs the user started here: polled until they finish, cancellable.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, api, asProblem } from './api';
import { FINISHED_JOB_STATES, IJob, IProblem } from './types';

/** How long after a job's last answer it is asked again. */
export const POLL_MS = 500;
/** ... and after a failed poll or cancel. */
export const RETRY_MS = 3000;

/** When the jobs' polls stand by (ask nothing), as a Lumino `Poll`'s standby. */
export type JobStandby = Poll.Standby | (() => boolean | Poll.Standby);

export interface ITrackedJob {
  job: IJob;
  /** The last poll or cancel failed: why. */
  problem: IProblem | null;
}

export function isFinished(job: IJob): boolean {
  return FINISHED_JOB_STATES.has(job.state);
}

/** Whether Cancel can still stop the job (servers that do not say: while it runs). */
export function isCancellable(job: IJob): boolean {
  return job.cancellable ?? !isFinished(job);
}

/** The version as it was asked for: `v3`, or `@champion`; the same from start to end. */
export function requestedLabel(job: IJob): string {
  return job.requested.startsWith('@') ? job.requested : `v${job.requested}`;
}

/** What a job deploys where, one form from start to end: `iris-classifier v3 → prod`. */
export function jobTitle(job: IJob): string {
  return `${job.model} ${requestedLabel(job)} → ${job.deployment}`;
}

/** The server forgot the job (it restarted): said without the job's internal id. */
export function forgottenJob(job: IJob): IProblem {
  return {
    code: 'not_found',
    message:
      `The Jupyter server no longer knows the deployment ${jobTitle(job)} (it was ` +
      'restarted): its progress cannot be followed here.',
    hint: 'The Deployments tab shows what the deployment serves now.'
  };
}

export class JobTracker {
  private readonly _jobs = new Map<string, ITrackedJob>();
  private readonly _polls = new Map<string, Poll>();
  private readonly _changed = new Signal<this, void>(this);
  private readonly _finished = new Signal<this, IJob>(this);
  private _isDisposed = false;

  /**
   * When the polls stand by (ask nothing): by default while the browser tab is hidden; the
   * panel adds "while it is not shown". A poll standing by looks again every POLL_MS.
   */
  standby: JobStandby = 'when-hidden';

  /** Any job's progress or state changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A job reached done, failed or cancelled. */
  get finished(): ISignal<this, IJob> {
    return this._finished;
  }

  /** Newest first. */
  get jobs(): ITrackedJob[] {
    return [...this._jobs.values()].reverse();
  }

  track(job: IJob): void {
    this._update(job, null);
  }

  async cancel(id: string): Promise<void> {
    const tracked = this._jobs.get(id);
    try {
      this._update(await api.cancelJob(id), null);
    } catch (error) {
      if (tracked) {
        this._update(tracked.job, asProblem(error));
      }
    }
  }

  dismiss(id: string): void {
    this._stop(id);
    this._jobs.delete(id);
    this._changed.emit();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Stops every poll; answers still on their way are ignored. */
  dispose(): void {
    this._isDisposed = true;
    for (const id of [...this._polls.keys()]) {
      this._stop(id);
    }
    this._jobs.clear();
    Signal.clearData(this);
  }

  private _update(job: IJob, problem: IProblem | null): void {
    if (this._isDisposed) {
      return;
    }
    const previous = this._jobs.get(job.id)?.job;
    this._jobs.set(job.id, { job, problem });
    this._changed.emit();
    if (!isFinished(job)) {
      this._schedule(job.id, problem !== null);
    } else if (!previous || !isFinished(previous)) {
      this._stop(job.id);
      this._finished.emit(job);
    }
  }

  /** The job's next poll: in POLL_MS, or RETRY_MS after a failure (its Poll made at first). */
  private _schedule(id: string, failed: boolean): void {
    let poll = this._polls.get(id);
    if (!poll) {
      poll = new Poll({
        auto: false,
        factory: () => this._poll(id),
        frequency: { interval: POLL_MS, backoff: false },
        name: `jupyter-mlflow-groups:job:${id}`,
        standby: () => (typeof this.standby === 'function' ? this.standby() : this.standby)
      });
      this._polls.set(id, poll);
    }
    void poll.schedule(
      failed
        ? { interval: RETRY_MS, phase: 'rejected' }
        : { interval: POLL_MS, phase: 'resolved' }
    );
  }

  /** One poll: every outcome schedules the next one or stops the job's poll. */
  private async _poll(id: string): Promise<void> {
    try {
      const job = await api.job(id);
      if (this._jobs.has(id)) {
        this._update(job, null);
      }
    } catch (error) {
      const tracked = this._jobs.get(id);
      if (!tracked) {
        return; // dismissed while asking
      }
      if (error instanceof ApiError && error.status === 404) {
        // the server no longer knows the job (it restarted): stop asking
        this._stop(id);
        this._jobs.set(id, { job: tracked.job, problem: forgottenJob(tracked.job) });
        this._changed.emit();
      } else {
        this._update(tracked.job, asProblem(error));
      }
    }
  }

  private _stop(id: string): void {
    this._polls.get(id)?.dispose();
    this._polls.delete(id);
  }
}
