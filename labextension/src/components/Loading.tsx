/**
 * A read in progress.
 */
import React from 'react';

export function Loading(props: { label: string }): JSX.Element {
  return (
    <div className="jp-MlflowGroups-loading" role="status" aria-live="polite">
      <span className="jp-MlflowGroups-spinner" aria-hidden="true" />
      {props.label}
    </div>
  );
}
