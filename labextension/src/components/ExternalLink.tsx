/**
 * A link that opens in a new tab (the MLflow UI, a model server's endpoint).
 */
import { launchIcon } from '@jupyterlab/ui-components';
import React from 'react';

export function ExternalLink(props: {
  href: string;
  children: React.ReactNode;
  title?: string;
}): JSX.Element {
  return (
    <a
      className="jp-MlflowGroups-link"
      href={props.href}
      target="_blank"
      rel="noopener noreferrer"
      title={props.title ?? `${props.href} (opens in a new tab)`}
    >
      {props.children}
      <launchIcon.react tag="span" className="jp-MlflowGroups-linkIcon" />
    </a>
  );
}
