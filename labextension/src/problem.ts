/**
 * Problems (a failed call or a failing group status) as words: what, why, what to do.
 */
import { IProblem } from './types';

const TITLES: Record<string, string> = {
  not_configured: 'MLflow is not set up for this group',
  unreachable: 'MLflow cannot be reached',
  timeout: 'MLflow did not answer in time',
  tls: "MLflow's certificate was refused",
  unauthorized: "MLflow refused the group's credentials",
  forbidden: 'MLflow refused access',
  not_found: 'Not found',
  bad_request: 'MLflow could not accept the request',
  mlflow_error: 'MLflow answered with an error',
  unauthenticated: 'Your Jupyter session has ended',
  network: 'The Jupyter server did not answer',
  conflict: 'Busy'
};

export function problemTitle(problem: IProblem): string {
  return TITLES[problem.code] ?? 'Something went wrong';
}

export function problemText(problem: IProblem): string {
  return [problem.message, problem.hint].filter(Boolean).join('\n\n');
}
