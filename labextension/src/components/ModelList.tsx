/**
 * The group's registered models: search (MLflow filter syntax, or plain words for names),
 * pages, and a row per model that opens its versions.
 */
import { Button, InputGroup, searchIcon } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { api } from '../api';
import { toMlflowFilter } from '../filter';
import { IModelSummary } from '../types';
import { useRequest } from '../useRequest';
import { Chips } from './Chips';
import { Loading } from './Loading';
import { Pager, usePages } from './Pager';
import { ProblemNotice } from './Problem';

export interface IModelListProps {
  group: string;
  reload: number;
  onOpen: (name: string) => void;
}

export function ModelList(props: IModelListProps): JSX.Element {
  const { group, reload } = props;
  const [typed, setTyped] = useState('');
  const [filter, setFilter] = useState('');
  const pages = usePages();
  const models = useRequest(
    fresh => api.models(group, filter, { pageToken: pages.token, refresh: fresh }),
    JSON.stringify([group, filter, pages.token]),
    reload
  );

  const search = (event: React.FormEvent) => {
    event.preventDefault();
    setFilter(toMlflowFilter(typed));
    pages.reset();
  };

  return (
    <div className="jp-MlflowGroups-models">
      <form className="jp-MlflowGroups-search" role="search" onSubmit={search}>
        <InputGroup
          type="search"
          aria-label="Search models (MLflow filter syntax)"
          placeholder="Search models"
          title={
            "Plain words search model names. MLflow filters work too: name LIKE '%fraud%', " +
            "tags.team = 'a'. Press Enter to search."
          }
          value={typed}
          onChange={event => setTyped(event.currentTarget.value)}
          rightIcon={searchIcon}
        />
        <Button type="submit" small>
          Search
        </Button>
      </form>
      {filter ? (
        <div className="jp-MlflowGroups-filterShown">
          Filter: <code>{filter}</code>
        </div>
      ) : (
        <div className="jp-MlflowGroups-filterShown">
          Words search names; MLflow filters work too: <code>tags.team = 'a'</code>
        </div>
      )}
      {models.problem && <ProblemNotice problem={models.problem} />}
      {models.loading && !models.data && <Loading label="Loading models…" />}
      {models.data && (
        <>
          {models.data.models.length === 0 ? (
            <p className="jp-MlflowGroups-empty">
              {filter
                ? 'No model matches this search.'
                : 'This group has no registered models yet.'}
            </p>
          ) : (
            <ul className="jp-MlflowGroups-modelList" aria-busy={models.loading}>
              {models.data.models.map(model => (
                <ModelRow key={model.name} model={model} onOpen={props.onOpen} />
              ))}
            </ul>
          )}
          <Pager
            pages={pages}
            nextToken={models.data.next_page_token}
            label="Pages of models"
          />
        </>
      )}
    </div>
  );
}

function ModelRow(props: {
  model: IModelSummary;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { model } = props;
  return (
    <li>
      <button
        className="jp-MlflowGroups-modelRow"
        onClick={() => props.onOpen(model.name)}
        title={`Versions of ${model.name}`}
      >
        <span className="jp-MlflowGroups-modelName">{model.name}</span>
        {model.latest_version && (
          <span
            className="jp-MlflowGroups-modelLatest"
            title={`Latest version: ${model.latest_version}`}
          >
            v{model.latest_version}
          </span>
        )}
        <Chips
          names={Object.entries(model.aliases).map(
            ([alias, version]) => `${alias} → v${version}`
          )}
          kind="alias"
        />
        {model.description && (
          <span className="jp-MlflowGroups-modelDescription">{model.description}</span>
        )}
      </button>
    </li>
  );
}
