/**
 * The body of the deploy dialog: a new deployment (named here) or one of the group's
 * deployments, which then serves this version instead of the one it served.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import React, { useState } from 'react';

import { api } from '../api';
import { IDeployment } from '../types';
import { useRequest } from '../useRequest';
import { Loading } from './Loading';

const NEW = '';

/** A deployment name made from a model name: lowercase letters, digits and dashes. */
export function suggestedName(model: string): string {
  const name = model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || 'model';
}

interface IChooserProps {
  group: string;
  model: string;
  onChange: (name: string) => void;
}

function Chooser(props: IChooserProps): JSX.Element {
  const deployments = useRequest(() => api.deployments(props.group), props.group);
  const [choice, setChoice] = useState(NEW);
  const [newName, setNewName] = useState(suggestedName(props.model));
  const choose = (value: string, name: string) => {
    setChoice(value);
    props.onChange(name);
  };
  const existing: IDeployment[] = deployments.data?.deployments ?? [];
  return (
    <div className="jp-MlflowGroups-chooser">
      <fieldset>
        <legend>Deploy to</legend>
        <label className="jp-MlflowGroups-choice">
          <input
            type="radio"
            name="jp-MlflowGroups-deployment"
            checked={choice === NEW}
            onChange={() => choose(NEW, newName)}
          />
          + New deployment
        </label>
        <input
          className="jp-mod-styled jp-MlflowGroups-newName"
          aria-label="Name of the new deployment"
          value={newName}
          disabled={choice !== NEW}
          onChange={event => {
            setNewName(event.currentTarget.value);
            props.onChange(event.currentTarget.value);
          }}
        />
        {deployments.loading && <Loading label="Loading the group's deployments…" />}
        {deployments.problem && (
          <p className="jp-MlflowGroups-muted">
            The group's deployments could not be listed: {deployments.problem.message}
          </p>
        )}
        {existing.map(deployment => (
          <label key={deployment.name} className="jp-MlflowGroups-choice">
            <input
              type="radio"
              name="jp-MlflowGroups-deployment"
              checked={choice === deployment.name}
              onChange={() => choose(deployment.name, deployment.name)}
            />
            {deployment.name}
            <span className="jp-MlflowGroups-muted">
              {' '}
              now {deployment.model} v{deployment.version}, {deployment.status}
            </span>
          </label>
        ))}
      </fieldset>
      <p className="jp-MlflowGroups-muted jp-MlflowGroups-chooserNote">
        The version's files are copied first; an existing deployment keeps serving its current
        version until the copy is complete and verified, then switches over.
      </p>
    </div>
  );
}

/** The dialog's body; its value is the chosen deployment's name. */
export class DeploymentChooser extends ReactWidget implements Dialog.IBodyWidget<string> {
  private _name: string;

  constructor(
    private readonly _group: string,
    private readonly _model: string
  ) {
    super();
    this._name = suggestedName(_model);
  }

  getValue(): string {
    return this._name.trim();
  }

  render(): JSX.Element {
    return (
      <Chooser
        group={this._group}
        model={this._model}
        onChange={name => (this._name = name)}
      />
    );
  }
}
