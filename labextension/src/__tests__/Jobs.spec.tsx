import { act, render, screen } from '@testing-library/react';
import React from 'react';

import { FOLD_MS, Jobs } from '../components/Jobs';
import { JobTracker } from '../jobs';
import { IJob, JobState } from '../types';
import { makeJob } from './jobFixture';

jest.mock('../api', () => ({
  ...jest.requireActual('../api'),
  api: { job: jest.fn(() => new Promise(() => undefined)), cancelJob: jest.fn() }
}));

function job(state: JobState, more: Partial<IJob> = {}): IJob {
  return makeJob(state, { deployment: 'prod', model: 'iris-classifier', ...more });
}

describe('a job card', () => {
  let tracker: JobTracker;

  beforeEach(() => {
    jest.useFakeTimers();
    tracker = new JobTracker();
    tracker.standby = 'never';
    render(<Jobs jobs={tracker} onShowDeployments={() => undefined} />);
  });

  afterEach(() => {
    tracker.dispose();
    jest.useRealTimers();
  });

  const card = () => screen.getByRole('group', { name: 'iris-classifier v3 → prod' });
  const show = (state: IJob) => act(() => tracker.track(state));

  it('keeps one title from start to end', () => {
    show(job('queued', { version: null }));
    expect(card().querySelector('.jp-MlflowGroups-jobName')?.textContent).toBe(
      'iris-classifier v3 → prod'
    );
    show(job('done'));
    expect(card().querySelector('.jp-MlflowGroups-jobName')?.textContent).toBe(
      'iris-classifier v3 → prod'
    );
  });

  it('offers Cancel only while the server says the job can be cancelled', () => {
    show(job('copying', { cancellable: true }));
    expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeNull();
    show(job('swapping', { cancellable: false }));
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('folds a job that went well into one line after FOLD_MS, and opens again', () => {
    show(job('done', { finished_at: new Date().toISOString() }));
    const toggle = screen.getByRole('button', { expanded: true });
    expect(card().querySelector('[role="progressbar"]')).not.toBeNull();
    act(() => jest.advanceTimersByTime(FOLD_MS));
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.textContent).toBe('iris-classifier v3 → prod · deployed just now');
    expect(card().querySelector('[role="progressbar"]')).toBeNull();
    act(() => toggle.click());
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(card().querySelector('[role="progressbar"]')).not.toBeNull();
  });

  it('keeps a failed job open, with what went wrong and what to do', () => {
    const error = { code: 'not_a_model', message: 'It holds no MLmodel file.', hint: 'Log it.' };
    show(job('failed', { error, id: '4c55fa89934446f2' }));
    act(() => jest.advanceTimersByTime(FOLD_MS * 3));
    expect(screen.getByRole('button', { expanded: true })).not.toBeNull();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('It holds no MLmodel file.');
    expect(alert.textContent).toContain('Log it.');
    expect(card().textContent).not.toContain('4c55fa89934446f2');
    expect(card().textContent).not.toContain('not_a_model');
  });
});
