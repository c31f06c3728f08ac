/**
 * What the compare tab shows of a comparison, as pure functions (tested in Jest): which rows a
 * table keeps, which cells are the best, which way a metric is better.
 */
import { typeOf } from '../components/Signature';
import { CompareTable, Direction, IComparison, ISignatureField } from '../types';

/** One row of a side-by-side table: a key and its value in each version (in column order). */
export interface IRow<T> {
  key: string;
  values: (T | null)[];
  /** Not the same in every version (the API says so). */
  differs: boolean;
}

/** The table's rows, keys sorted; with `differencesOnly`, only those that differ. */
export function tableRows<T>(
  table: CompareTable<T>,
  versions: string[],
  differing: string[],
  differencesOnly: boolean
): IRow<T>[] {
  const differs = new Set(differing);
  return Object.keys(table)
    .sort()
    .map(key => ({
      key,
      values: versions.map(version => table[key]?.[version] ?? null),
      differs: differs.has(key)
    }))
    .filter(row => row.differs || !differencesOnly);
}

/** Version tags and run tags in one table: `version tag` and `run tag` rows side by side. */
export function tagRows(
  comparison: IComparison,
  versions: string[],
  differencesOnly: boolean
): (IRow<string> & { kind: 'version' | 'run' })[] {
  const { tags, run_tags, differences } = comparison;
  return [
    ...tableRows(tags, versions, differences.tags, differencesOnly).map(row => ({
      ...row,
      kind: 'version' as const
    })),
    ...tableRows(run_tags, versions, differences.run_tags, differencesOnly).map(row => ({
      ...row,
      kind: 'run' as const
    }))
  ];
}

/** Whether `version` holds the best value of `metric` (the API decides, by its direction). */
export function isBest(comparison: IComparison, metric: string, version: string): boolean {
  return (comparison.best[metric] ?? []).includes(version);
}

export function flipped(direction: Direction): Direction {
  return direction === 'max' ? 'min' : 'max';
}

/** The directions to ask the API for once `metric` is turned the other way from what the
 * comparison shows (keys sorted: the same choice is the same question). */
export function withFlipped(
  overrides: Record<string, Direction>,
  comparison: IComparison,
  metric: string
): Record<string, Direction> {
  const next = { ...overrides, [metric]: flipped(comparison.directions[metric] ?? 'max') };
  return Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b)));
}

/** How a direction reads next to the metric. */
export function directionLabel(direction: Direction): string {
  return direction === 'max' ? '↑ higher is better' : '↓ lower is better';
}

/** A signature's inputs or outputs on one line: `amount: double, age: long`. */
export function fieldsText(fields: ISignatureField[] | null | undefined): string {
  if (!fields?.length) {
    return 'not described';
  }
  return fields
    .map(field => (field.name ? `${field.name}: ${typeOf(field)}` : typeOf(field)))
    .join(', ');
}

/** The signatures as a table of two rows, Inputs and Outputs (`no signature` where a version
 * has none), each row differing when its text does. */
export function signatureRows(
  comparison: IComparison,
  versions: string[],
  differencesOnly: boolean
): IRow<string>[] {
  const text = (version: string, part: 'inputs' | 'outputs') => {
    const signature = comparison.signatures[version];
    return signature ? fieldsText(signature[part]) : 'no signature';
  };
  return (['inputs', 'outputs'] as const)
    .map(part => {
      const values = versions.map(version => text(version, part));
      return {
        key: part === 'inputs' ? 'Inputs' : 'Outputs',
        values,
        differs: comparison.differences.signature && new Set(values).size > 1
      };
    })
    .filter(row => row.differs || !differencesOnly);
}
