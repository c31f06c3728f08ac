/**
 * The heading of a view opened from another, with the way back; it takes the focus when the view opens, so keyboard and
 * screen-reader users land where the new content starts.
 */
import { Button, caretLeftIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useRef } from 'react';

export function Heading(props: {
  title: string;
  back: { label: string; onClick: () => void };
  children?: React.ReactNode;
}): JSX.Element {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.title]);
  return (
    <div className="jp-MlflowGroups-heading">
      <Button
        small
        minimal
        className="jp-MlflowGroups-back"
        onClick={props.back.onClick}
        aria-label={`Back to ${props.back.label}`}
        title={`Back to ${props.back.label}`}
      >
        <caretLeftIcon.react tag="span" />
        {props.back.label}
      </Button>
      <h2 tabIndex={-1} ref={heading}>
        {props.title}
      </h2>
      {props.children}
    </div>
  );
}
