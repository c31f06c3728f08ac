/**
 * Deployment jobs started here: a live progress bar (bytes, rate, time left), Cancel, and the
 * endpoint once the version is served.
 */
import { Button, UseSignal, closeIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { formatBytes, formatDuration, formatRate } from '../format';
import { ITrackedJob, JobTracker, isFinished } from '../jobs';
import { labUrl } from '../mlflowUi';
import { problemTitle } from '../problem';
import { IJob, JobState } from '../types';
import { Invocations } from './Invocations';

const STATE_LABELS: Record<JobState, string> = {
  queued: 'Waiting to start',
  planning: 'Listing the artifacts',
  copying: 'Copying the artifacts',
  verifying: 'Verifying the copy',
  swapping: 'Switching the deployment over',
  serving: 'Starting the model server',
  done: 'Deployed',
  failed: 'Failed: the previous deployment is untouched',
  cancelled: 'Cancelled: the previous deployment is untouched'
};

export function Jobs(props: { jobs: JobTracker }): JSX.Element {
  return (
    <UseSignal signal={props.jobs.changed}>
      {() =>
        props.jobs.jobs.length > 0 && (
          <section className="jp-MlflowGroups-jobs" aria-label="Deployment jobs">
            {props.jobs.jobs.map(tracked => (
              <JobCard key={tracked.job.id} tracked={tracked} jobs={props.jobs} />
            ))}
          </section>
        )
      }
    </UseSignal>
  );
}

function percentDone(job: IJob): number | null {
  if (job.state === 'done') {
    return 100;
  }
  if (!job.bytes_total) {
    return null;
  }
  return Math.min(100, Math.round((job.bytes_done / job.bytes_total) * 100));
}

function progressText(job: IJob): string {
  const parts: string[] = [];
  if (job.bytes_total) {
    parts.push(`${formatBytes(job.bytes_done)} of ${formatBytes(job.bytes_total)}`);
  }
  if (job.files_total) {
    parts.push(`${job.files_done} of ${job.files_total} files`);
  }
  if (!isFinished(job) && job.rate_bytes_per_s) {
    parts.push(formatRate(job.rate_bytes_per_s));
  }
  if (!isFinished(job) && job.eta_s !== null && job.eta_s !== undefined) {
    parts.push(`${formatDuration(job.eta_s)} left`);
  }
  return parts.join(' · ');
}

function JobCard(props: { tracked: ITrackedJob; jobs: JobTracker }): JSX.Element {
  const { job, problem } = props.tracked;
  const finished = isFinished(job);
  const percent = percentDone(job);
  const version = job.version ? `v${job.version}` : job.requested;
  return (
    <div className={`jp-MlflowGroups-job jp-mod-${job.state}`} data-state={job.state}>
      <div className="jp-MlflowGroups-jobTitle">
        <span>
          {job.model} {version} → <strong>{job.deployment}</strong>
        </span>
        {finished && (
          <Button
            small
            minimal
            onClick={() => props.jobs.dismiss(job.id)}
            title="Dismiss"
            aria-label={`Dismiss the deployment of ${job.model} to ${job.deployment}`}
          >
            <closeIcon.react tag="span" />
          </Button>
        )}
      </div>
      <div
        className="jp-MlflowGroups-progress"
        role="progressbar"
        aria-label={`Deployment of ${job.model} to ${job.deployment}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={`${STATE_LABELS[job.state]} ${progressText(job)}`}
      >
        <div
          className={`jp-MlflowGroups-progressBar${percent === null ? ' jp-mod-unknown' : ''}`}
          style={{ width: `${percent ?? 100}%` }}
        />
      </div>
      <div className="jp-MlflowGroups-jobState" aria-live="polite">
        {STATE_LABELS[job.state]}
        {percent !== null && !finished && ` · ${percent}%`}
      </div>
      <div className="jp-MlflowGroups-jobDetail">{progressText(job)}</div>
      {job.state === 'done' && job.endpoint && <JobEndpoint job={job} endpoint={job.endpoint} />}
      {job.error && (
        <div className="jp-MlflowGroups-jobError" role="alert">
          {job.error.message} ({job.error.code})
        </div>
      )}
      {problem && (
        <div className="jp-MlflowGroups-jobError" role="alert" title={problem.hint}>
          {problemTitle(problem)}: {problem.message}
        </div>
      )}
      {!finished && (
        <Button small onClick={() => void props.jobs.cancel(job.id)}>
          Cancel
        </Button>
      )}
    </div>
  );
}

/** A local deployment's invocations URL (its endpoint is a path on this server), or the
 * endpoint a remote target reported. */
function JobEndpoint(props: { job: IJob; endpoint: string }): JSX.Element {
  const { job, endpoint } = props;
  if (!labUrl(endpoint)) {
    return (
      <div className="jp-MlflowGroups-jobEndpoint">
        Endpoint: <code>{endpoint}</code>
      </div>
    );
  }
  return (
    <Invocations
      group={job.group}
      deployment={job.deployment}
      path={`${endpoint.replace(/\/?$/, '/')}invocations`}
    />
  );
}
