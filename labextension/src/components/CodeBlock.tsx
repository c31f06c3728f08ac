/**
 * Code to copy (or insert): shown as it is written, lines unbroken (the block scrolls
 * sideways in a narrow panel), with a Copy button and any further actions.
 */
import React from 'react';

import { CopyButton } from './CopyButton';

export function CodeBlock(props: {
  code: string;
  /** What was copied, for the notice ("the code that loads this version"). */
  what: string;
  /** A caption above the code. */
  label?: string;
  /** Further buttons next to Copy. */
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-MlflowGroups-codeBlock">
      {props.label && <div className="jp-MlflowGroups-codeLabel">{props.label}</div>}
      {/* focusable: a block that scrolls sideways can be scrolled by keyboard */}
      <pre className="jp-MlflowGroups-code" tabIndex={0}>
        {props.code}
      </pre>
      <div className="jp-MlflowGroups-actions">
        <CopyButton text={props.code} what={props.what} label={`Copy ${props.what}`} />
        {props.children}
      </div>
    </div>
  );
}
