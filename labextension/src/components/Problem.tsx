/**
 * A problem, said plainly: what is wrong, why, and what to do (the API's hint).
 */
import React from 'react';

import { problemTitle } from '../problem';
import { IProblem } from '../types';

export interface IProblemNoticeProps {
  problem: IProblem;
  /** Further lines, e.g. which fields of the group's binding are wrong. */
  details?: string[];
  children?: React.ReactNode;
}

export function ProblemNotice(props: IProblemNoticeProps): JSX.Element {
  const { problem, details } = props;
  return (
    <div
      className="jp-MlflowGroups-problem"
      role="alert"
      data-code={problem.code}
    >
      <div className="jp-MlflowGroups-problemTitle">{problemTitle(problem)}</div>
      <p className="jp-MlflowGroups-problemMessage">{problem.message}</p>
      {details && details.length > 0 && (
        <ul className="jp-MlflowGroups-problemDetails">
          {details.map(line => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      {problem.hint && (
        <p className="jp-MlflowGroups-problemHint">{problem.hint}</p>
      )}
      <div className="jp-MlflowGroups-problemCode">Error code: {problem.code}</div>
      {props.children}
    </div>
  );
}
