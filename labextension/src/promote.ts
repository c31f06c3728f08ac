/**
 * Promoting from the panel: the dialogs that set, move and remove aliases, edit a version and
 * decide requests, and the calls behind them. Each says what came of it (made at once, or a
 * request waiting for an admin) or, when refused, the API's message and hint.
 */
import { Dialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { aliasProblem, needsReview, requestSummary, tagEdits, tagsText } from './aliases';
import { api, ApiError, asProblem } from './api';
import { AliasFormBody, EditBody, IAliasFormValue, ReasonBody } from './components/PromoteForms';
import { problemText } from './problem';
import { IAliasChange, IAliasRecord, IGroup, IVersion } from './types';

/** What the panel does after a change: read again, or show the Requests tab. */
export interface IPromoteHooks {
  onChanged: () => void;
  onShowRequests: () => void;
}

/** "Set alias…": asks again (with the reason kept) until the name is one MLflow takes. */
export async function setAlias(
  group: IGroup,
  model: string,
  version: string,
  hooks: IPromoteHooks
): Promise<void> {
  let value: IAliasFormValue = { alias: '', reason: '' };
  let refusal: string | null = null;
  const reviewed = group.admin ? [] : (group.registry?.protected_aliases ?? []);
  for (;;) {
    const choice = await showDialog({
      title: `Set an alias on ${model} v${version}`,
      body: new AliasFormBody(value, reviewed, refusal),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Set alias' })],
      focusNodeSelector: 'input'
    });
    if (!choice.button.accept || !choice.value) {
      return;
    }
    value = choice.value;
    refusal = aliasProblem(value.alias);
    if (refusal) {
      continue;
    }
    try {
      const change = await api.setAlias(group.name, model, value.alias, version, value.reason);
      announce(change, hooks);
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        refusal = problemText(error); // the server's word on the name: ask again
        continue;
      }
      await refused(`Could not set @${value.alias} on ${model} v${version}`, error);
      return;
    }
  }
}

/** The × of an alias chip: confirm, with an optional reason, then remove (or ask to). */
export async function removeAlias(
  group: IGroup,
  model: string,
  alias: string,
  hooks: IPromoteHooks
): Promise<void> {
  const review = needsReview(group, alias)
    ? ' It is protected: your removal becomes a request that an admin of the group decides.'
    : '';
  const choice = await showDialog({
    title: `Remove @${alias} from ${model}?`,
    body: new ReasonBody(
      `Code that loads models:/${model}@${alias} stops finding it.${review}`,
      'Reason (optional)'
    ),
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })],
    focusNodeSelector: 'textarea'
  });
  if (!choice.button.accept) {
    return;
  }
  try {
    announce(await api.removeAlias(group.name, model, alias, choice.value ?? ''), hooks);
  } catch (error) {
    await refused(`Could not remove @${alias} of ${model}`, error);
  }
}

/** "Edit…": the version's description and tags; only what changed is sent. */
export async function editVersion(
  group: IGroup,
  version: IVersion,
  hooks: IPromoteHooks
): Promise<void> {
  let value = { description: version.description ?? '', tags: tagsText(version.tags) };
  for (;;) {
    const choice = await showDialog({
      title: `Edit ${version.name} v${version.version}`,
      body: new EditBody(value),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save' })],
      focusNodeSelector: 'textarea'
    });
    if (!choice.button.accept || !choice.value) {
      return;
    }
    value = choice.value;
    const edits = tagEdits(version.tags, value.tags);
    if (edits.problem) {
      await showErrorMessage('Tags are one "key: value" a line', edits.problem);
      continue;
    }
    const description =
      value.description !== (version.description ?? '') ? value.description : undefined;
    try {
      await api.editVersion(group.name, version.name, version.version, {
        description,
        tags: edits.tags
      });
      Notification.success(`Saved ${version.name} v${version.version}.`, { autoClose: 4000 });
      hooks.onChanged();
    } catch (error) {
      await refused(`Could not edit ${version.name} v${version.version}`, error);
    }
    return;
  }
}

/** An admin's Approve, or Reject with an optional reason. */
export async function decideRequest(
  group: string,
  record: IAliasRecord,
  approve: boolean,
  onChanged: () => void
): Promise<void> {
  let comment = '';
  if (!approve) {
    const choice = await showDialog({
      title: 'Reject this request?',
      body: new ReasonBody(
        `${requestSummary(record)}, asked by ${record.requested_by}.`,
        'Why (optional, the requester sees it)'
      ),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Reject' })],
      focusNodeSelector: 'textarea'
    });
    if (!choice.button.accept) {
      return;
    }
    comment = choice.value ?? '';
  }
  try {
    const decided = await api.decideRequest(group, record.id, approve, comment);
    Notification.success(`${approve ? 'Approved' : 'Rejected'}: ${requestSummary(decided)}.`, {
      autoClose: 5000
    });
  } catch (error) {
    await refused(`Could not ${approve ? 'approve' : 'reject'} the request`, error);
  }
  onChanged(); // a refusal (decided meanwhile, failed) changes the list too
}

/** Made at once, or asked: say which, and read again. */
function announce(change: IAliasChange, hooks: IPromoteHooks): void {
  const request = change.request;
  if (!change.applied && request) {
    Notification.info(`Requested: waits for a group admin. ${requestSummary(request)}.`, {
      autoClose: 8000,
      actions: [{ label: 'Show requests', callback: () => hooks.onShowRequests() }]
    });
  } else if (change.record) {
    Notification.success(`${requestSummary(change.record)}: done.`, { autoClose: 4000 });
  }
  hooks.onChanged();
}

async function refused(title: string, error: unknown): Promise<void> {
  await showErrorMessage(title, problemText(asProblem(error)));
}
