/**
 * How the sidebar asks for a compare tab: the panel provides the command's call, so the
 * versions table needs no handle on the application.
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
