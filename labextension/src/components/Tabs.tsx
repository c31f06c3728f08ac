/**
 * Tabs with the keyboard behaviour people expect: Tab reaches the selected one, the arrow keys
 * select the next or previous.
 */
import React, { useRef } from 'react';

export interface ITab {
  id: string;
  label: string;
  /** A count shown beside the label (pending requests), when above zero. */
  badge?: number;
  /** What the badge counts, for screen readers. */
  badgeLabel?: string;
}

export function Tabs(props: {
  label: string;
  tabs: ITab[];
  selected: string;
  onSelect: (id: string) => void;
}): JSX.Element {
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const move = (offset: number) => {
    const count = props.tabs.length;
    const index = props.tabs.findIndex(tab => tab.id === props.selected);
    const next = props.tabs[(index + offset + count) % count];
    props.onSelect(next.id);
    buttons.current.get(next.id)?.focus();
  };
  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      event.preventDefault();
      move(event.key === 'ArrowRight' ? 1 : -1);
    }
  };
  return (
    <div
      className="jp-MlflowGroups-tabs"
      role="tablist"
      aria-label={props.label}
      onKeyDown={onKeyDown}
    >
      {props.tabs.map(tab => {
        const selected = tab.id === props.selected;
        return (
          <button
            key={tab.id}
            ref={button => {
              if (button) {
                buttons.current.set(tab.id, button);
              }
            }}
            role="tab"
            aria-selected={selected}
            tabIndex={selected ? 0 : -1}
            className={`jp-MlflowGroups-tab${selected ? ' jp-mod-selected' : ''}`}
            onClick={() => props.onSelect(tab.id)}
          >
            {tab.label}
            {!!tab.badge && (
              <span
                className="jp-MlflowGroups-badge"
                aria-label={`${tab.badge} ${tab.badgeLabel ?? ''}`.trim()}
              >
                {tab.badge}
              </span>
            )}
          </button>
        );
      })}
    </div>
  );
}
