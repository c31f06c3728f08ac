/**
 * The search box takes MLflow's filter syntax (`name LIKE '%fraud%'`, `tags.team = 'a'`);
 * plain words, which MLflow would refuse, search model names instead.
 */

const FILTER_SYNTAX = /(=|<|>|\bI?LIKE\b|\bIN\b)/i;

export function toMlflowFilter(text: string): string {
  const search = text.trim();
  if (!search || FILTER_SYNTAX.test(search)) {
    return search;
  }
  const pattern = `%${search}%`;
  if (!pattern.includes("'")) {
    return `name ILIKE '${pattern}'`;
  }
  if (!pattern.includes('"')) {
    return `name ILIKE "${pattern}"`;
  }
  // MLflow cannot quote a string holding both quotes: any character matches there.
  return `name ILIKE '${pattern.replace(/['"]/g, '_')}'`;
}
