/**
 * What an artifact's preview shows, from its text: pretty-printed JSON, the first rows of a
 * CSV or TSV. Pure functions (React escapes every string they give when it renders them).
 */

/** JSON indented by two spaces; the text as it is when it is not JSON. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export interface ITable {
  header: string[];
  rows: string[][];
  /** Rows after the header, all of them (more than `rows` holds when cut). */
  total: number;
}

/** The rows of a CSV (RFC 4180: quoted fields, "" inside quotes, CRLF or LF), the first as the
 * header, at most `maxRows` after it. */
export function parseTable(text: string, delimiter = ',', maxRows = 50): ITable {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = () => {
    record.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    records.push(record);
    record = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === delimiter) {
      endField();
    } else if (c === '\n' || c === '\r') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') {
        i += 1;
      }
    } else {
      field += c;
    }
    i += 1;
  }
  if (field !== '' || record.length > 0) {
    endRecord();
  }
  const [header = [], ...body] = records;
  return { header, rows: body.slice(0, maxRows), total: body.length };
}
