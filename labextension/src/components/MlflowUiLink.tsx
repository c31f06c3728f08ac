/**
 * A link into a group's MLflow UI: a left click opens it through the "Open MLflow UI" command
 * (a JupyterLab tab for the UI this server proxies); middle-click and "open in new tab" keep
 * the real address.
 */
import { launchIcon } from '@jupyterlab/ui-components';
import React, { createContext, useContext } from 'react';

import { labUrl } from '../mlflowUi';

/** Opens an MLflow UI URL; the panel provides the command's. */
export const OpenMlflowUi = createContext<(url: string) => void>(url =>
  window.open(url, '_blank', 'noopener')
);

export function MlflowUiLink(props: {
  href: string;
  children: React.ReactNode;
  /** The accessible name, when the children are only an icon. */
  label?: string;
  className?: string;
}): JSX.Element {
  const open = useContext(OpenMlflowUi);
  const inLab = labUrl(props.href) !== null;
  const where = inLab
    ? 'opens in a JupyterLab tab (middle-click: a browser tab)'
    : `${props.href} (opens in a new tab)`;
  const onClick = (event: React.MouseEvent) => {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return; // the browser's own: a new tab or window
    }
    event.preventDefault();
    open(props.href);
  };
  return (
    <a
      className={props.className ?? 'jp-MlflowGroups-link'}
      href={props.href}
      target="_blank"
      rel="noopener noreferrer"
      onClick={onClick}
      aria-label={props.label}
      title={props.label ? `${props.label}: ${where}` : where}
    >
      {props.children}
      {!inLab && <launchIcon.react tag="span" className="jp-MlflowGroups-linkIcon" />}
    </a>
  );
}
