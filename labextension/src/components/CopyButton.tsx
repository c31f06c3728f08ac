/**
 * Copies a text to the clipboard and says so.
 */
import { Clipboard, Notification } from '@jupyterlab/apputils';
import { Button, copyIcon } from '@jupyterlab/ui-components';
import React from 'react';

export function CopyButton(props: {
  text: string;
  /** What was copied, for the notice ("the code that loads this version"). */
  what: string;
  label?: string;
}): JSX.Element {
  const copy = () => {
    Clipboard.copyToSystem(props.text);
    Notification.success(`Copied ${props.what}.`, { autoClose: 3000 });
  };
  return (
    <Button
      small
      onClick={copy}
      title={`Copy ${props.what} to the clipboard`}
      aria-label={props.label}
    >
      <copyIcon.react tag="span" /> Copy
    </Button>
  );
}
