/**
 * Aliases and deployment names as small labels; an alias chip may carry a × that removes it.
 */
import React from 'react';

export interface IChipRemoval {
  onRemove: (name: string) => void;
}

export function Chips(props: {
  names: string[];
  kind: 'alias' | 'deployment';
  /** A remove control on each chip: only for aliases the user may change (the group's
   * policy), so that nobody is offered what would be refused. */
  removal?: IChipRemoval;
}): JSX.Element | null {
  const { removal } = props;
  if (props.names.length === 0) {
    return null;
  }
  return (
    <span className="jp-MlflowGroups-chips">
      {props.names.map(name => (
        <span
          key={name}
          className={`jp-MlflowGroups-chip jp-mod-${props.kind}`}
          data-name={name}
        >
          {props.kind === 'alias' ? `@${name}` : name}
          {removal && (
            <button
              className="jp-MlflowGroups-chipRemove"
              aria-label={`Remove @${name}`}
              title={`Remove @${name}`}
              onClick={() => removal.onRemove(name)}
            >
              ×
            </button>
          )}
        </span>
      ))}
    </span>
  );
}
