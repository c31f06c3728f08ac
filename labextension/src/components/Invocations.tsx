/**
 * How to call a local deployment: its invocations URL (POST JSON there, with your Jupyter
 * login or token), copyable; a link to its `ping` (which answers a browser's GET); and the
 * code that calls it, from a notebook or over HTTP (replace the example row with yours).
 */
import React from 'react';

import { CodeBlock } from './CodeBlock';
import { CopyButton } from './CopyButton';

/** The column the examples use: the sidebar does not know the model's inputs here. */
const COLUMNS = ['feature'];

/** The calls that predict with the deployment, as shown and copied: the same code the
 * widgets and the magics show (jupyter_mlflow_groups/kernel/snippets.py). */
export function invocationSnippets(
  group: string,
  deployment: string,
  url: string
): { notebook: string; http: string } {
  const row = COLUMNS.map(() => '0').join(', ');
  const notebook =
    'import pandas as pd\n' +
    'from mlflow.deployments import get_deploy_client\n\n' +
    `client = get_deploy_client(${JSON.stringify(`jupyter-mlflow-groups:/${group}`)})\n` +
    `client.predict(${JSON.stringify(deployment)}, ` +
    `pd.DataFrame([[${row}]], columns=${JSON.stringify(COLUMNS)}))`;
  const body = { dataframe_split: { columns: COLUMNS, data: [COLUMNS.map(() => 0)] } };
  const http =
    'import requests\n\n' +
    'answer = requests.post(\n' +
    `    ${JSON.stringify(url)},\n` +
    `    json=${JSON.stringify(body).replace(/([:,])/g, '$1 ')},\n` +
    '    headers={"Authorization": "token <your Jupyter token>"},\n' +
    ')\n' +
    'answer.json()["predictions"]';
  return { notebook, http };
}

export function Invocations(props: {
  group: string;
  deployment: string;
  /** The invocations URL's path on this server. */
  path: string;
}): JSX.Element {
  const url = window.location.origin + props.path;
  const ping = url.replace(/invocations$/, 'ping');
  const snippets = invocationSnippets(props.group, props.deployment, url);
  return (
    <div className="jp-MlflowGroups-invocations">
      <div className="jp-MlflowGroups-invocationsHead">
        <span>Invocations URL</span>
        <CopyButton
          text={url}
          what={`the invocations URL of ${props.deployment}`}
          label={`Copy the invocations URL of ${props.deployment}`}
        />
      </div>
      <code
        className="jp-MlflowGroups-invocationsUrl"
        title="POST JSON here, with your Jupyter login or token"
      >
        {url}
      </code>
      <a
        className="jp-MlflowGroups-link"
        href={ping}
        target="_blank"
        rel="noopener noreferrer"
        title={`${ping}: answers while the model is served`}
      >
        Check that it answers (ping)
      </a>
      <details className="jp-MlflowGroups-howToCall">
        <summary>How to call it</summary>
        <CodeBlock
          code={snippets.notebook}
          label="From a notebook"
          what={`the code that calls ${props.deployment} from a notebook`}
        />
        <CodeBlock
          code={snippets.http}
          label="Over HTTP, with a Jupyter token"
          what={`the request that calls ${props.deployment}`}
        />
      </details>
    </div>
  );
}
