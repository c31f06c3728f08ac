/**
 * Deployment jobs started here: a live progress bar (bytes, rate, time left), Cancel while it
 * can still stop the job, and the endpoint once the version is served. A finished job folds
 * into one line after a few seconds (a failed one stays open); its title opens it again.
 */
import {
  Button,
  UseSignal,
  caretDownIcon,
  caretRightIcon,
  closeIcon
} from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { formatBytes, formatDuration, formatRate } from '../format';
import {
  ITrackedJob,
  JobTracker,
  isCancellable,
  isFinished,
  jobTitle,
  requestedLabel
} from '../jobs';
import { problemTitle } from '../problem';
import { IJob, IProblem, JobState } from '../types';
import { Invocations } from './Invocations';
import { Time } from './Time';

/** How long a finished job stays open before it folds into one line. */
export const FOLD_MS = 5000;

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

export interface IJobsProps {
  jobs: JobTracker;
  /** Shows the Deployments tab. */
  onShowDeployments: () => void;
}

export function Jobs(props: IJobsProps): JSX.Element {
  return (
    <UseSignal signal={props.jobs.changed}>
      {() =>
        props.jobs.jobs.length > 0 && (
          <section className="jp-MlflowGroups-jobs" aria-label="Deployment jobs">
            {props.jobs.jobs.map(tracked => (
              <JobCard key={tracked.job.id} tracked={tracked} {...props} />
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
  if (job.version && job.requested.startsWith('@')) {
    parts.push(`v${job.version}`); // what the alias pointed at
  }
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

/** Open while the job runs; a job that ended well folds FOLD_MS after it ended. */
function useOpen(job: IJob): [boolean, (open: boolean) => void] {
  const [open, setOpen] = useState(true);
  const folds = isFinished(job) && job.state !== 'failed';
  useEffect(() => {
    if (!folds) {
      return;
    }
    const timer = window.setTimeout(() => setOpen(false), FOLD_MS);
    return () => window.clearTimeout(timer);
  }, [folds]);
  return [open, setOpen];
}

function JobCard(props: IJobsProps & { tracked: ITrackedJob }): JSX.Element {
  const { job, problem } = props.tracked;
  const finished = isFinished(job);
  const [open, setOpen] = useOpen(job);
  const title = (
    <span className="jp-MlflowGroups-jobName">
      {job.model} {requestedLabel(job)} → <strong>{job.deployment}</strong>
    </span>
  );
  return (
    <div
      className={`jp-MlflowGroups-job jp-mod-${job.state}`}
      data-state={job.state}
      aria-label={jobTitle(job)}
      role="group"
    >
      <div className="jp-MlflowGroups-jobTitle">
        {finished ? (
          <button
            className="jp-MlflowGroups-jobToggle"
            aria-expanded={open}
            onClick={() => setOpen(!open)}
            title={`${jobTitle(job)}: ${STATE_LABELS[job.state]} (click to ${
              open ? 'fold into one line' : 'show the details'
            })`}
          >
            {open ? <caretDownIcon.react tag="span" /> : <caretRightIcon.react tag="span" />}
            {title}
            {!open && (
              <span className="jp-MlflowGroups-jobOutcome">
                {' '}
                · {job.state === 'done' ? 'deployed' : job.state}{' '}
                <Time iso={job.finished_at} ago />
              </span>
            )}
          </button>
        ) : (
          title
        )}
        {finished && (
          <Button
            small
            minimal
            onClick={() => props.jobs.dismiss(job.id)}
            title="Dismiss"
            aria-label={`Dismiss ${jobTitle(job)}`}
          >
            <closeIcon.react tag="span" />
          </Button>
        )}
      </div>
      {open && <JobBody {...props} />}
      {problem && <ProblemLine problem={problem} title={problemTitle(problem)} />}
    </div>
  );
}

function JobBody(props: IJobsProps & { tracked: ITrackedJob }): JSX.Element {
  const { job } = props.tracked;
  const finished = isFinished(job);
  const percent = percentDone(job);
  return (
    <>
      <div
        className="jp-MlflowGroups-progress"
        role="progressbar"
        aria-label={`Deployment ${jobTitle(job)}`}
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
      {job.error && <ProblemLine problem={job.error} />}
      {job.state === 'done' && <JobEndpoint job={job} />}
      {job.state === 'done' && (
        <button className="jp-MlflowGroups-linkButton" onClick={props.onShowDeployments}>
          Stop, start or remove it in Deployments
        </button>
      )}
      {isCancellable(job) && (
        <Button small onClick={() => void props.jobs.cancel(job.id)}>
          Cancel
        </Button>
      )}
    </>
  );
}

/** What went wrong with the job (or with following it), and what to do. */
function ProblemLine(props: { problem: IProblem; title?: string }): JSX.Element {
  const { problem } = props;
  return (
    <div className="jp-MlflowGroups-jobError" role="alert">
      {props.title && <div className="jp-MlflowGroups-jobErrorTitle">{props.title}</div>}
      <div>{problem.message}</div>
      {problem.hint && <div className="jp-MlflowGroups-jobErrorHint">{problem.hint}</div>}
    </div>
  );
}

/** A local deployment's invocations URL (a path on this server), or the endpoint a remote
 * target reported. */
function JobEndpoint(props: { job: IJob }): JSX.Element | null {
  const { job } = props;
  if (job.invocations_url) {
    return (
      <Invocations group={job.group} deployment={job.deployment} path={job.invocations_url} />
    );
  }
  return job.endpoint ? (
    <div className="jp-MlflowGroups-jobEndpoint">
      Endpoint: <code>{job.endpoint}</code>
    </div>
  ) : null;
}
