import { describe, expect, it } from 'vitest';
import { CsvParser, csvCell, csvLine, neutraliseCell, unneutraliseCell } from '../../../src/bulk/csv.js';
import type { CsvRecord } from '../../../src/bulk/csv.js';

function parse(text: string, chunkSize = text.length || 1): CsvRecord[] {
  const parser = new CsvParser();
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunkSize) out.push(...parser.push(text.slice(i, i + chunkSize)));
  out.push(...parser.end());
  return out;
}

/** Every way of cutting the text into chunks gives the same records. */
function parseEveryway(text: string): CsvRecord[] {
  const whole = parse(text);
  for (const size of [1, 2, 3, 5, 7]) expect(parse(text, size)).toEqual(whole);
  return whole;
}

describe('CsvParser', () => {
  it('reads plain records with LF, CRLF and lone CR line ends', () => {
    expect(parseEveryway('a,b\n1,2\r\n3,4\r5,6')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
      { line: 4, fields: ['5', '6'] },
    ]);
  });

  it('reads quoted fields with commas, escaped quotes and line breaks, counting physical lines', () => {
    const text = 'user_id,note\r\n"u,1","she said ""hi"""\r\n"u2","two\r\nlines"\r\nu3,last\r\n';
    expect(parseEveryway(text)).toEqual([
      { line: 1, fields: ['user_id', 'note'] },
      { line: 2, fields: ['u,1', 'she said "hi"'] },
      { line: 3, fields: ['u2', 'two\r\nlines'] },
      { line: 5, fields: ['u3', 'last'] },
    ]);
  });

  it('keeps empty fields and an empty quoted field', () => {
    expect(parseEveryway('a,,c\n"",x,\n')).toEqual([
      { line: 1, fields: ['a', '', 'c'] },
      { line: 2, fields: ['', 'x', ''] },
    ]);
  });

  it('skips blank lines and lines of empty cells, keeping line numbers right', () => {
    expect(parseEveryway('h\n\n\r\n,,,\nu1\n\n')).toEqual([
      { line: 1, fields: ['h'] },
      { line: 5, fields: ['u1'] },
    ]);
  });

  it('keeps a quote inside an unquoted field as text', () => {
    expect(parseEveryway('a"b,c\n')).toEqual([{ line: 1, fields: ['a"b', 'c'] }]);
  });

  it('flags text after a closing quote but goes on with the next record', () => {
    const records = parseEveryway('"ab"c,d\nu2,x\n');
    expect(records[0]!.error).toMatch(/after a closing quote on line 1/);
    expect(records[1]).toEqual({ line: 2, fields: ['u2', 'x'] });
  });

  it('reports an unclosed quote with the line it opened on', () => {
    const records = parseEveryway('h\nu1,"never closed\nu2,x\n');
    expect(records).toHaveLength(2);
    expect(records[1]!.line).toBe(2);
    expect(records[1]!.error).toMatch(/opened on line 2 is never closed/);
  });

  it('reads non-ASCII UTF-8 text as is', () => {
    expect(parseEveryway('Zoë,Ñandú,李\n')).toEqual([{ line: 1, fields: ['Zoë', 'Ñandú', '李'] }]);
  });
});

describe('spreadsheet injection', () => {
  it('neutralises cells a spreadsheet would run as formulas', () => {
    for (const cell of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3+cmd|/C calc!A0', '@SUM(A1)', '\tx', '\rx']) {
      expect(neutraliseCell(cell)).toBe(`'${cell}`);
    }
  });

  it('leaves plain numbers and ordinary text alone', () => {
    for (const cell of ['-1.2921', '+254', '36.8', '1e5', 'u-1', 'a=b', '']) expect(neutraliseCell(cell)).toBe(cell);
  });

  it('round-trips through unneutraliseCell', () => {
    for (const cell of ['=cmd', '@x', '-x', 'plain', "'quoted", '-1.5']) expect(unneutraliseCell(neutraliseCell(cell))).toBe(cell);
  });

  it('quotes cells that need it, after neutralising', () => {
    expect(csvCell('=1,2')).toBe(`"'=1,2"`);
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(csvLine(['a', 1, true, '=x'])).toBe("a,1,true,'=x\r\n");
  });

  it('writes lines the parser reads back', () => {
    const values = ['=danger', 'a,b', 'multi\nline', '"q"', '-1.5'];
    const [record] = parse(csvLine(values));
    expect(record!.fields.map(unneutraliseCell)).toEqual(values);
  });
});
