/**
 * Aliases and deployment names as small labels.
 */
import React from 'react';

export function Chips(props: {
  names: string[];
  kind: 'alias' | 'deployment';
}): JSX.Element | null {
  if (props.names.length === 0) {
    return null;
  }
  return (
    <span className="jp-MlflowGroups-chips">
      {props.names.map(name => (
        <span
          key={name}
          className={`jp-MlflowGroups-chip jp-mod-${props.kind}`}
        >
          {props.kind === 'alias' ? `@${name}` : name}
        </span>
      ))}
    </span>
  );
}
