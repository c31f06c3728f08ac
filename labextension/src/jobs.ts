/**
 * Deployment jobs the user started here: polled until they finish, cancellable.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, api, asProblem } from './api';
import { FINISHED_JOB_STATES, IJob, IProblem } from './types';

const POLL_MS = 500;
const RETRY_MS = 3000;

export interface ITrackedJob {
  job: IJob;
  /** The last poll or cancel failed: why. */
  problem: IProblem | null;
}

export function isFinished(job: IJob): boolean {
  return FINISHED_JOB_STATES.has(job.state);
}

export class JobTracker {
  private readonly _jobs = new Map<string, ITrackedJob>();
  private readonly _timers = new Map<string, number>();
  private readonly _changed = new Signal<this, void>(this);
  private readonly _finished = new Signal<this, IJob>(this);

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

  dispose(): void {
    for (const id of this._timers.keys()) {
      this._stop(id);
    }
    Signal.clearData(this);
  }

  private _update(job: IJob, problem: IProblem | null): void {
    const previous = this._jobs.get(job.id)?.job;
    this._jobs.set(job.id, { job, problem });
    this._changed.emit();
    if (!isFinished(job)) {
      this._schedule(job.id, problem ? RETRY_MS : POLL_MS);
    } else if (!previous || !isFinished(previous)) {
      this._stop(job.id);
      this._finished.emit(job);
    }
  }

  private _schedule(id: string, delay: number): void {
    this._stop(id);
    this._timers.set(id, window.setTimeout(() => void this._poll(id), delay));
  }

  private async _poll(id: string): Promise<void> {
    this._timers.delete(id);
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
        this._jobs.set(id, { job: tracked.job, problem: error });
        this._changed.emit();
      } else {
        this._update(tracked.job, asProblem(error));
      }
    }
  }

  private _stop(id: string): void {
    const timer = this._timers.get(id);
    if (timer !== undefined) {
      window.clearTimeout(timer);
      this._timers.delete(id);
    }
  }
}
