import { IJob, JobState } from '../types';

/** A deploy job as the server describes it, in `state`, with `more` fields changed. */
export function makeJob(state: JobState, more: Partial<IJob> = {}): IJob {
  return {
    id: 'job-1',
    group: 'team',
    deployment: 'iris',
    model: 'iris-model',
    requested: '3',
    version: '3',
    state,
    bytes_done: 0,
    bytes_total: null,
    files_done: 0,
    files_total: null,
    rate_bytes_per_s: null,
    eta_s: null,
    error: null,
    endpoint: null,
    ...more
  };
}
