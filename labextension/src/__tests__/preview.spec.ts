import { parseTable, prettyJson } from '../preview';

describe('prettyJson', () => {
  it('indents JSON', () => {
    expect(prettyJson('{"a":[1,2]}')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
  });

  it('leaves what is not JSON as it is', () => {
    expect(prettyJson('{not json')).toBe('{not json');
  });
});

describe('parseTable', () => {
  it('takes the first row as the header', () => {
    const table = parseTable('label,score\ncat,0.9\ndog,0.4\n');
    expect(table).toEqual({
      header: ['label', 'score'],
      rows: [
        ['cat', '0.9'],
        ['dog', '0.4']
      ],
      total: 2
    });
  });

  it('reads quoted fields, doubled quotes, CRLF and tabs', () => {
    expect(parseTable('a,b\r\n"x, y","say ""hi"""\r\n').rows).toEqual([['x, y', 'say "hi"']]);
    expect(parseTable('a\tb\n1\t2', '\t').rows).toEqual([['1', '2']]);
  });

  it('keeps the first rows and counts them all', () => {
    const text = 'n\n' + Array.from({ length: 80 }, (_, i) => `${i}`).join('\n');
    const table = parseTable(text, ',', 50);
    expect(table.rows).toHaveLength(50);
    expect(table.total).toBe(80);
    expect(table.rows[49]).toEqual(['49']);
  });

  it('is empty for an empty text', () => {
    expect(parseTable('')).toEqual({ header: [], rows: [], total: 0 });
  });
});
