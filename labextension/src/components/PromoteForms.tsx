/**
 * The bodies of the promote dialogs: an alias and why, a reason alone, a version's description
 * and tags. Each says beforehand what the server would refuse or turn into a request.
 */
import { Dialog, ReactWidget } from '@jupyterlab/apputils';
import React, { useState } from 'react';

import { aliasName, aliasProblem } from '../aliases';

export interface IAliasFormValue {
  alias: string;
  reason: string;
}

interface IAliasFormProps {
  initial: IAliasFormValue;
  /** Aliases whose change by this user becomes a request. */
  reviewed: string[];
  /** The server's refusal of the last try, shown until the name changes. */
  refusal: string | null;
  onChange: (value: IAliasFormValue) => void;
}

function AliasForm(props: IAliasFormProps): JSX.Element {
  const [value, setValue] = useState(props.initial);
  const [touched, setTouched] = useState(false);
  const update = (change: Partial<IAliasFormValue>) => {
    const next = { ...value, ...change };
    setValue(next);
    props.onChange(next);
  };
  // the last refusal until the name is edited, then the rule checked as it is typed
  const problem = touched ? aliasProblem(value.alias) : props.refusal;
  const alias = aliasName(value.alias);
  return (
    <div className="jp-MlflowGroups-form">
      <label>
        Alias
        <input
          className="jp-mod-styled"
          value={value.alias}
          placeholder="champion"
          aria-invalid={problem !== null}
          aria-describedby="jp-MlflowGroups-aliasProblem"
          list="jp-MlflowGroups-protectedAliases"
          onChange={event => {
            setTouched(true);
            update({ alias: event.currentTarget.value });
          }}
        />
      </label>
      <datalist id="jp-MlflowGroups-protectedAliases">
        {props.reviewed.map(name => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <p id="jp-MlflowGroups-aliasProblem" className="jp-MlflowGroups-formProblem" role="status">
        {problem}
      </p>
      {props.reviewed.includes(alias) && (
        <p className="jp-MlflowGroups-formNote">
          @{alias} is protected: your change becomes a request that an admin of the group
          approves or rejects.
        </p>
      )}
      <label>
        Reason
        <textarea
          className="jp-mod-styled"
          rows={3}
          value={value.reason}
          placeholder="Why, for the group's history (recall 0.91 vs 0.87)"
          onChange={event => update({ reason: event.currentTarget.value })}
        />
      </label>
    </div>
  );
}

/** Its value: the alias (without @) and the reason, as typed. */
export class AliasFormBody extends ReactWidget implements Dialog.IBodyWidget<IAliasFormValue> {
  private _value: IAliasFormValue;

  constructor(
    initial: IAliasFormValue,
    private readonly _reviewed: string[],
    private readonly _refusal: string | null
  ) {
    super();
    this._value = initial;
  }

  getValue(): IAliasFormValue {
    return { alias: aliasName(this._value.alias), reason: this._value.reason.trim() };
  }

  render(): JSX.Element {
    return (
      <AliasForm
        initial={this._value}
        reviewed={this._reviewed}
        refusal={this._refusal}
        onChange={value => (this._value = value)}
      />
    );
  }
}

/** A note and an optional text: why an alias goes, or why a request is rejected. */
export class ReasonBody extends ReactWidget implements Dialog.IBodyWidget<string> {
  private _text = '';

  constructor(
    private readonly _note: string,
    private readonly _label: string
  ) {
    super();
  }

  getValue(): string {
    return this._text.trim();
  }

  render(): JSX.Element {
    return (
      <div className="jp-MlflowGroups-form">
        <p>{this._note}</p>
        <label>
          {this._label}
          <textarea
            className="jp-mod-styled"
            rows={3}
            defaultValue=""
            onChange={event => (this._text = event.currentTarget.value)}
          />
        </label>
      </div>
    );
  }
}

export interface IEditFormValue {
  description: string;
  tags: string;
}

/** A version's description, and its tags one `key: value` a line. */
export class EditBody extends ReactWidget implements Dialog.IBodyWidget<IEditFormValue> {
  constructor(private _value: IEditFormValue) {
    super();
  }

  getValue(): IEditFormValue {
    return this._value;
  }

  render(): JSX.Element {
    return (
      <div className="jp-MlflowGroups-form">
        <label>
          Description
          <textarea
            className="jp-mod-styled"
            rows={3}
            defaultValue={this._value.description}
            onChange={event =>
              (this._value = { ...this._value, description: event.currentTarget.value })
            }
          />
        </label>
        <label>
          Tags, one <code>key: value</code> a line (delete a line to remove the tag)
          <textarea
            className="jp-mod-styled"
            rows={5}
            defaultValue={this._value.tags}
            onChange={event => (this._value = { ...this._value, tags: event.currentTarget.value })}
          />
        </label>
      </div>
    );
  }
}
