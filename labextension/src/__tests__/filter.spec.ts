import { toMlflowFilter } from '../filter';

describe('toMlflowFilter', () => {
  it('is empty for an empty search', () => {
    expect(toMlflowFilter('')).toBe('');
    expect(toMlflowFilter('   ')).toBe('');
  });

  it('searches names for plain words, ignoring the spaces around them', () => {
    expect(toMlflowFilter('fraud')).toBe("name ILIKE '%fraud%'");
    expect(toMlflowFilter('  credit risk ')).toBe("name ILIKE '%credit risk%'");
  });

  it.each([
    "name LIKE '%fraud%'",
    "name ilike '%Fraud%'",
    "tags.team = 'a'",
    "tags.team != 'a'",
    'creation_timestamp > 1700000000000',
    'creation_timestamp < 1700000000000',
    "name IN ('a', 'b')"
  ])('passes MLflow filter syntax through: %s', filter => {
    expect(toMlflowFilter(`  ${filter} `)).toBe(filter);
  });

  it('does not take words that contain an operator for one', () => {
    expect(toMlflowFilter('likelihood')).toBe("name ILIKE '%likelihood%'");
    expect(toMlflowFilter('insurance')).toBe("name ILIKE '%insurance%'");
  });

  it('quotes words holding a single quote with double quotes', () => {
    expect(toMlflowFilter("o'brien")).toBe('name ILIKE "%o\'brien%"');
  });

  it('matches any character where words hold both quotes', () => {
    expect(toMlflowFilter('the "best" o\'brien')).toBe(
      "name ILIKE '%the _best_ o_brien%'"
    );
  });
});
