import { ApiError, api } from '../api';
import {
  JobTracker,
  POLL_MS,
  RETRY_MS,
  forgottenJob,
  isCancellable,
  jobTitle
} from '../jobs';
import { IJob, JobState } from '../types';
import { makeJob } from './jobFixture';

jest.mock('../api', () => ({
  ...jest.requireActual('../api'),
  api: { job: jest.fn(), cancelJob: jest.fn() }
}));

const askJob = api.job as jest.MockedFunction<typeof api.job>;
const askCancel = api.cancelJob as jest.MockedFunction<typeof api.cancelJob>;

const job = makeJob;

/** Lets `ms` pass, running the timers and the promises they start. */
async function wait(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

describe('JobTracker', () => {
  let tracker: JobTracker;
  let changes: number;
  let finished: IJob[];

  beforeEach(() => {
    jest.useFakeTimers();
    askJob.mockReset();
    askCancel.mockReset();
    tracker = new JobTracker();
    tracker.standby = 'never';
    changes = 0;
    finished = [];
    tracker.changed.connect(() => (changes += 1));
    tracker.finished.connect((_, done) => finished.push(done));
  });

  afterEach(() => {
    tracker.dispose();
    jest.useRealTimers();
  });

  it('shows a tracked job at once and asks for it every POLL_MS', async () => {
    askJob.mockResolvedValue(job('copying', { bytes_done: 10 }));
    tracker.track(job('queued'));
    expect(tracker.jobs).toEqual([{ job: job('queued'), problem: null }]);
    expect(changes).toBe(1);

    await wait(POLL_MS - 1);
    expect(askJob).not.toHaveBeenCalled();
    await wait(1);
    expect(askJob).toHaveBeenCalledTimes(1);
    expect(askJob).toHaveBeenCalledWith('job-1');
    expect(tracker.jobs[0].job.state).toBe('copying');
    expect(tracker.jobs[0].job.bytes_done).toBe(10);
    expect(changes).toBe(2);

    await wait(POLL_MS * 3);
    expect(askJob).toHaveBeenCalledTimes(4);
    expect(finished).toEqual([]);
  });

  it('lists jobs newest first', () => {
    tracker.track(job('done', { id: 'old' }));
    tracker.track(job('done', { id: 'new' }));
    expect(tracker.jobs.map(tracked => tracked.job.id)).toEqual(['new', 'old']);
  });

  it.each<JobState>(['done', 'failed', 'cancelled'])(
    'stops asking once the job is %s, says so once, and keeps showing it',
    async state => {
      askJob
        .mockResolvedValueOnce(job('verifying'))
        .mockResolvedValue(job(state));
      tracker.track(job('copying'));
      await wait(POLL_MS);
      expect(finished).toEqual([]);
      await wait(POLL_MS);
      expect(finished).toEqual([job(state)]);
      expect(tracker.jobs[0].job.state).toBe(state);

      await wait(POLL_MS * 10);
      expect(askJob).toHaveBeenCalledTimes(2);
      expect(finished).toHaveLength(1);
      expect(tracker.jobs).toHaveLength(1);
    }
  );

  it('never asks for a job tracked already finished, and says it finished', async () => {
    tracker.track(job('done'));
    expect(finished).toEqual([job('done')]);
    tracker.track(job('done'));
    expect(finished).toHaveLength(1);
    await wait(POLL_MS * 10);
    expect(askJob).not.toHaveBeenCalled();
  });

  it('shows a failed poll and asks again after RETRY_MS, clearing it on an answer', async () => {
    const outage = new ApiError(0, 'network', 'The Jupyter server did not answer', 'Check.');
    askJob.mockRejectedValueOnce(outage).mockResolvedValue(job('copying'));
    tracker.track(job('queued'));
    await wait(POLL_MS);
    expect(tracker.jobs).toEqual([{ job: job('queued'), problem: outage }]);

    await wait(RETRY_MS - 1);
    expect(askJob).toHaveBeenCalledTimes(1);
    await wait(1);
    expect(askJob).toHaveBeenCalledTimes(2);
    expect(tracker.jobs).toEqual([{ job: job('copying'), problem: null }]);

    await wait(POLL_MS);
    expect(askJob).toHaveBeenCalledTimes(3);
  });

  it('turns any failure into a problem', async () => {
    askJob.mockRejectedValue(new TypeError('boom'));
    tracker.track(job('queued'));
    await wait(POLL_MS);
    expect(tracker.jobs[0].problem).toEqual({
      code: 'error',
      message: 'TypeError: boom',
      hint: ''
    });
  });

  it('stops asking for a job the server no longer knows (404), and says so', async () => {
    const gone = new ApiError(404, 'not_found', "There is no deployment job '4c55fa'.", '');
    askJob.mockRejectedValue(gone);
    tracker.track(job('copying'));
    await wait(POLL_MS);
    expect(tracker.jobs).toEqual([{ job: job('copying'), problem: forgottenJob(job('copying')) }]);
    expect(tracker.jobs[0].problem?.message).not.toContain('4c55fa');
    await wait(RETRY_MS * 3);
    expect(askJob).toHaveBeenCalledTimes(1);
    expect(finished).toEqual([]);
  });

  it('forgets a dismissed job and stops asking for it', async () => {
    askJob.mockResolvedValue(job('copying'));
    tracker.track(job('copying'));
    tracker.dismiss('job-1');
    expect(tracker.jobs).toEqual([]);
    expect(changes).toBe(2);
    await wait(POLL_MS * 10);
    expect(askJob).not.toHaveBeenCalled();
  });

  it('ignores the answer about a job dismissed while asking', async () => {
    let answer: (value: IJob) => void = () => undefined;
    askJob.mockImplementation(() => new Promise(resolve => (answer = resolve)));
    tracker.track(job('copying'));
    await wait(POLL_MS);
    expect(askJob).toHaveBeenCalledTimes(1);
    tracker.dismiss('job-1');
    answer(job('done'));
    await wait(POLL_MS * 10);
    expect(tracker.jobs).toEqual([]);
    expect(finished).toEqual([]);
    expect(askJob).toHaveBeenCalledTimes(1);
  });

  it('cancels: shows the answer, and a cancelled job is finished', async () => {
    askJob.mockResolvedValue(job('copying'));
    askCancel.mockResolvedValue(job('cancelled'));
    tracker.track(job('copying'));
    await tracker.cancel('job-1');
    expect(askCancel).toHaveBeenCalledWith('job-1');
    expect(tracker.jobs).toEqual([{ job: job('cancelled'), problem: null }]);
    expect(finished).toEqual([job('cancelled')]);
    await wait(POLL_MS * 10);
    expect(askJob).not.toHaveBeenCalled();
  });

  it('keeps following a job whose cancel is still under way', async () => {
    askJob.mockResolvedValue(job('cancelled'));
    askCancel.mockResolvedValue(job('copying', { bytes_done: 5 }));
    tracker.track(job('copying'));
    await tracker.cancel('job-1');
    expect(tracker.jobs[0].job.bytes_done).toBe(5);
    await wait(POLL_MS);
    expect(askJob).toHaveBeenCalledTimes(1);
    expect(finished).toEqual([job('cancelled')]);
  });

  it('shows a refused cancel on the job, unchanged, and asks again after RETRY_MS', async () => {
    const busy = new ApiError(409, 'conflict', 'The job is swapping', 'Wait.');
    askCancel.mockRejectedValue(busy);
    askJob.mockResolvedValue(job('serving'));
    tracker.track(job('swapping'));
    await tracker.cancel('job-1');
    expect(tracker.jobs).toEqual([{ job: job('swapping'), problem: busy }]);

    await wait(RETRY_MS - 1);
    expect(askJob).not.toHaveBeenCalled();
    expect(tracker.jobs[0].problem).toBe(busy);
    await wait(1);
    expect(tracker.jobs).toEqual([{ job: job('serving'), problem: null }]);
  });

  it('stands by while its standby says so, and asks again within POLL_MS after', async () => {
    let hidden = true;
    tracker.standby = () => hidden;
    askJob.mockResolvedValue(job('copying'));
    tracker.track(job('copying'));
    await wait(POLL_MS * 20);
    expect(askJob).not.toHaveBeenCalled();

    hidden = false;
    await wait(POLL_MS);
    expect(askJob).toHaveBeenCalledTimes(1);
    await wait(POLL_MS);
    expect(askJob).toHaveBeenCalledTimes(2);

    hidden = true;
    await wait(POLL_MS * 20);
    expect(askJob).toHaveBeenCalledTimes(2);
  });

  it('stands by while the browser tab is hidden, by default', async () => {
    const tab = new JobTracker();
    const visibility = jest.spyOn(document, 'visibilityState', 'get');
    const turn = (state: DocumentVisibilityState) => {
      visibility.mockReturnValue(state);
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      expect(tab.standby).toBe('when-hidden');
      askJob.mockResolvedValue(job('copying'));
      turn('visible');
      tab.track(job('copying'));
      await wait(POLL_MS);
      expect(askJob).toHaveBeenCalledTimes(1);

      turn('hidden');
      await wait(POLL_MS * 20);
      // a poll lingers for one more answer before standing by
      expect(askJob).toHaveBeenCalledTimes(2);

      turn('visible');
      await wait(POLL_MS);
      expect(askJob).toHaveBeenCalledTimes(3);
    } finally {
      tab.dispose();
      turn('visible');
      visibility.mockRestore();
    }
  });

  it('stops every poll when disposed, and ignores answers on their way', async () => {
    let answer: (value: IJob) => void = () => undefined;
    askJob.mockImplementationOnce(() => new Promise(resolve => (answer = resolve)));
    askJob.mockResolvedValue(job('copying'));
    tracker.track(job('copying', { id: 'a' }));
    await wait(POLL_MS);
    tracker.track(job('copying', { id: 'b' }));
    tracker.dispose();
    answer(job('copying', { id: 'a' }));
    await wait(POLL_MS * 10);
    expect(askJob).toHaveBeenCalledTimes(1);
    expect(tracker.isDisposed).toBe(true);
  });
});

describe('what a job card says', () => {
  it('titles a job the same way from start to end', () => {
    const asked = job('queued', { version: null });
    expect(jobTitle(asked)).toBe('iris-model v3 → iris');
    expect(jobTitle(job('done'))).toBe(jobTitle(asked));
    const byAlias = { requested: '@champion' };
    expect(jobTitle(job('queued', { ...byAlias, version: null }))).toBe(
      'iris-model @champion → iris'
    );
    expect(jobTitle(job('done', byAlias))).toBe('iris-model @champion → iris');
  });

  it('offers Cancel while the server says it can cancel', () => {
    expect(isCancellable(job('copying', { cancellable: true }))).toBe(true);
    expect(isCancellable(job('swapping', { cancellable: false }))).toBe(false);
  });

  it('offers Cancel while the job runs when the server does not say', () => {
    expect(isCancellable(job('copying'))).toBe(true);
    expect(isCancellable(job('done'))).toBe(false);
    expect(isCancellable(job('failed'))).toBe(false);
  });

  it('names what the server forgot, with no internal id, and what to do', () => {
    const problem = forgottenJob(job('copying', { id: '4c55fa89934446f2' }));
    expect(problem.message).toContain('iris-model v3 → iris');
    expect(problem.message).not.toContain('4c55fa89934446f2');
    expect(problem.hint).toContain('Deployments tab');
  });
});
