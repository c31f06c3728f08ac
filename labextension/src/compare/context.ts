/**
 * How the sidebar asks for a compare tab: the panel provides the command's call, so the
 * versions table needs no handle on the application; and the tab's versions and name.
 */
import { createContext } from 'react';

/** The arguments of the `mlflow-groups:compare` command (and of a restored tab). */
export interface ICompareArgs {
  group: string;
  model: string;
  versions: string[];
}

/** Opens a compare tab; null where there is none to open (no Compare button then). */
export const OpenCompare = createContext<((args: ICompareArgs) => void) | null>(null);

/** The command's arguments, checked (they may come from anyone's command call or a saved
 * layout); null when they are not a group, a model and 2 to 10 versions. */
export function compareArgs(args: Record<string, unknown>): ICompareArgs | null {
  const { group, model, versions } = args;
  if (
    typeof group !== 'string' ||
    typeof model !== 'string' ||
    !Array.isArray(versions) ||
    !versions.every(version => typeof version === 'string') ||
    versions.length < 2 ||
    versions.length > MAX_COMPARED
  ) {
    return null;
  }
  return { group, model, versions: versions as string[] };
}

/** What the server compares at most at once (compare.py's MAX_VERSIONS). */
export const MAX_COMPARED = 10;

/** The versions of a tab in one order (numbers ascending, then aliases), without repeats: one
 * tab per set of versions, however they were picked. */
export function normalVersions(versions: string[]): string[] {
  const unique = [...new Set(versions.map(version => version.trim()).filter(Boolean))];
  const rank = (version: string) => (/^\d+$/.test(version) ? Number(version) : Infinity);
  return unique.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** `v3` for a number, `@champion` as it is. */
export function versionName(version: string): string {
  return version.startsWith('@') ? version : `v${version}`;
}

/** The tab's title: `Compare iris v3, v4`. */
export function compareTitle(model: string, versions: string[]): string {
  return `Compare ${model} ${versions.map(versionName).join(', ')}`;
}
