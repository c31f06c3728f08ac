/**
 * What the panel decides before it asks the server: whether an alias name is one MLflow takes,
 * whether the group lets this user write, how a request reads, how edited tags become a PATCH.
 * Pure functions, so that the rules are tested without a browser.
 */
import { IAliasRecord, IGroup } from './types';

/** The server's rule (bindings.ALIAS_NAME): letters, digits, _ and -; not latest nor v<n>. */
const ALIAS_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Why `name` is not an alias name (null when it is): said before the server refuses it. */
export function aliasProblem(name: string): string | null {
  const alias = name.trim().replace(/^@/, '');
  if (!alias) {
    return 'Name the alias, like champion.';
  }
  if (alias === 'latest' || /^v\d+$/.test(alias)) {
    return `MLflow keeps @${alias} for itself: choose another name.`;
  }
  if (!ALIAS_NAME.test(alias)) {
    return 'Aliases are letters, digits, _ and - (at most 255), like champion.';
  }
  return null;
}

/** The alias as typed, without its @ and spaces. */
export function aliasName(name: string): string {
  return name.trim().replace(/^@/, '');
}

export interface IWriteAccess {
  allowed: boolean;
  /** Why not, for a disabled control's title; empty when allowed. */
  why: string;
}

/** Whether the group's `registry.write` lets this user change its registry through Jupyter. */
export function writeAccess(group: IGroup | undefined): IWriteAccess {
  const write = group?.registry?.write ?? 'members';
  const name = group?.name ?? 'this group';
  if (write === 'members' || (write === 'admins' && group?.admin)) {
    return { allowed: true, why: '' };
  }
  const who = write === 'nobody' ? 'nobody' : 'only its admins';
  return {
    allowed: false,
    why: `Group '${name}' lets ${who} change its registry through Jupyter.`
  };
}

/** Whether a change of `alias` by this user waits for an admin. */
export function needsReview(group: IGroup | undefined, alias: string): boolean {
  return !group?.admin && (group?.registry?.protected_aliases ?? []).includes(alias);
}

/** A record in one line: `Point @champion of 'iris' at v4 (was v3)`. */
export function requestSummary(record: IAliasRecord): string {
  const was = record.previous ? ` (was v${record.previous})` : '';
  if (record.action === 'remove') {
    return `Remove @${record.alias} of '${record.model}'${was}`;
  }
  return `Point @${record.alias} of '${record.model}' at v${record.version}${was}`;
}

export function pendingCount(records: IAliasRecord[] | undefined): number {
  return (records ?? []).filter(record => record.status === 'pending').length;
}

/** Tags as people edit them: one `key: value` a line. */
export function tagsText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n');
}

export interface ITagEdits {
  tags: Record<string, string | null>;
  /** The first line that is not `key: value`, said; null when all are. */
  problem: string | null;
}

/**
 * What changed from `before` to the edited text: tags set to their new value, removed ones
 * null (the PATCH body's form); tags left as they were are not sent.
 */
export function tagEdits(before: Record<string, string>, text: string): ITagEdits {
  const after: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (!line) {
      continue;
    }
    const colon = line.indexOf(':');
    const key = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!key) {
      return {
        tags: {},
        problem: `Line ${index + 1} is not "key: value": ${line.slice(0, 40)}`
      };
    }
    after[key] = line.slice(colon + 1).trim();
  }
  const tags: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(after)) {
    if (before[key] !== value) {
      tags[key] = value;
    }
  }
  for (const key of Object.keys(before)) {
    if (!(key in after)) {
      tags[key] = null;
    }
  }
  return { tags, problem: null };
}
