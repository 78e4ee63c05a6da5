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

  it('reports an unclosed quote with the line it opened on, and reads the lines after it again', () => {
    // Contract change (issue 9 item 8): the lines after an unclosed quote are no longer swallowed.
    const records = parseEveryway('h\nu1,"never closed\nu2,x\n');
    expect(records).toHaveLength(3);
    expect(records[1]).toEqual({
      line: 2,
      fields: ['u1', '"never closed'],
      error: expect.stringMatching(
        /opened on line 2 is never closed: it would swallow line 3 \(to the end of the file\); this row is skipped and reading goes on at line 3/,
      ),
    });
    expect(records[2]).toEqual({ line: 3, fields: ['u2', 'x'] });
  });

  it('reports an unclosed quote on the last line plainly', () => {
    for (const text of ['h\nu1,"open', 'h\nu1,"open\n', 'h\nu1,"open\r\n']) {
      const records = parseEveryway(text);
      expect(records).toHaveLength(2);
      expect(records[1]!.error).toBe('a quoted field opened on line 2 is never closed');
    }
  });

  it('takes a quote still open after MAX_QUOTED_LINES lines for a stray one and reads on from the next line', () => {
    const rows = Array.from({ length: 300 }, (_, i) => `u${i + 2},x`);
    const text = `h\nu1,"stray\n${rows.join('\r\n')}\r\n`;
    const records = parseEveryway(text);
    expect(records).toHaveLength(302);
    expect(records[1]).toEqual({
      line: 2,
      fields: ['u1', '"stray'],
      error: expect.stringMatching(
        /opened on line 2 is still open 100 lines later: a stray " would swallow lines 3–102 and more; this row is skipped and reading goes on at line 3/,
      ),
    });
    expect(records.slice(2)).toEqual(rows.map((row, i) => ({ line: i + 3, fields: row.split(',') })));
  });

  it('takes a quote that closes lines later with text after it for a stray one', () => {
    const records = parseEveryway('h\nu1,"stray\nu2,x\nu3,"y"z\nu4,w\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    expect(records[1]!.error).toMatch(
      /opened on line 2 closes only on line 4, with text after the closing quote: a stray " would swallow lines 3–4; this row is skipped and reading goes on at line 3/,
    );
    expect(records[2]).toEqual({ line: 3, fields: ['u2', 'x'] });
    expect(records[3]!.error).toMatch(/after a closing quote on line 4/);
    expect(records[4]).toEqual({ line: 5, fields: ['u4', 'w'] });
  });

  it('recovers from several stray quotes in a row, with lone CR line ends too', () => {
    const records = parseEveryway('h\ra,"1\rb,"2\rc,3\r');
    expect(records.map((r) => [r.line, r.error === undefined ? r.fields.join('|') : 'error'])).toEqual([
      [1, 'h'],
      [2, 'error'],
      [3, 'error'],
      [4, 'c|3'],
    ]);
  });

  it('takes a quoted value of more than MAX_RECORD_CHARS over several lines for a stray quote', () => {
    const text = `h\nu1,"stray\n${'a'.repeat(700_000)}\n${'b'.repeat(700_000)}\nu4,x\n`;
    for (const size of [4096, 65_536, text.length]) {
      const records = parse(text, size);
      expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
      expect(records[1]!.error).toMatch(
        /opened on line 2 runs on for more than 1 MiB: a stray " would swallow lines 3–\d+ and more; this row is skipped and reading goes on at line 3/,
      );
      expect(records[4]).toEqual({ line: 5, fields: ['u4', 'x'] });
    }
  });

  it('keeps a legitimate multi-line quoted value that closes in time', () => {
    const value = Array.from({ length: 99 }, (_, i) => `l${i}`).join('\n');
    expect(parseEveryway(`h\n"${value}",x\nu2,y\n`)).toEqual([
      { line: 1, fields: ['h'] },
      { line: 2, fields: [value, 'x'] },
      { line: 101, fields: ['u2', 'y'] },
    ]);
  });

  it('streams: records come out while a long file is still being pushed, stray quote or not', () => {
    const parser = new CsvParser();
    const line = (i: number) => (i === 5 ? 'u5,"stray\n' : `u${i},x\n`);
    let seen = 0;
    for (let i = 1; i <= 10_000; i++) {
      seen += parser.push(line(i)).length;
      // Never more than MAX_QUOTED_LINES (+1) lines are held back.
      expect(i - seen).toBeLessThanOrEqual(101);
    }
    seen += parser.end().length;
    expect(seen).toBe(10_000);
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
    for (const cell of ['=cmd', '@x', '-x', 'plain', "'quoted", '-1.5'])
      expect(unneutraliseCell(neutraliseCell(cell))).toBe(cell);
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
