/**
 * A streaming RFC 4180 CSV reader: quoted fields (with `""` escapes and line breaks inside),
 * LF, CRLF and lone CR line ends, chunks split anywhere. Each record carries the physical line
 * it starts on, so a bad row can be named by its line number; a malformed record is returned
 * with an `error` instead of stopping the stream.
 */

export interface CsvRecord {
  /** 1-based physical line on which the record starts. */
  line: number;
  fields: string[];
  /** Set when the record is malformed (text after a closing quote, unclosed quote, too long). */
  error?: string;
}

/** A record larger than this is refused (a runaway unclosed quote must not eat the memory). */
export const MAX_RECORD_CHARS = 1 << 20;

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** Saw `"` inside a quoted field: either `""` (an escaped quote) or the closing quote. */
  QuoteInQuoted,
  /** After a closing quote: only a comma or a line end may follow. */
  AfterClose,
}

const UNQUOTED_SPECIAL = /[,\r\n"]/g;
const QUOTED_SPECIAL = /["\n]/g;

/** Push text chunks in, take whole records out; `end()` flushes the last record. */
export class CsvParser {
  #state: State = State.FieldStart;
  #field = '';
  #fields: string[] = [];
  #line = 1;
  #recordLine = 1;
  #quotedLine = 1;
  /** The previous chunk ended with `\r`: a `\n` starting the next one belongs to it. */
  #pendingCr = false;
  #error: string | undefined;
  #chars = 0;
  /** The record contains at least one quoted field (so an empty line `""` is a record). */
  #sawQuote = false;

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let i = 0;
    const n = chunk.length;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      if (n > 0 && chunk.charCodeAt(0) === 10) i = 1;
    }
    while (i < n) {
      switch (this.#state) {
        case State.FieldStart:
        case State.Unquoted: {
          if (this.#state === State.FieldStart && chunk.charCodeAt(i) === 34) {
            this.#state = State.Quoted;
            this.#sawQuote = true;
            this.#quotedLine = this.#line;
            i++;
            break;
          }
          UNQUOTED_SPECIAL.lastIndex = i;
          const match = UNQUOTED_SPECIAL.exec(chunk);
          const stop = match ? match.index : n;
          if (stop > i) this.#append(chunk.slice(i, stop));
          this.#state = State.Unquoted;
          if (!match) {
            i = n;
            break;
          }
          const c = chunk.charCodeAt(stop);
          i = stop + 1;
          if (c === 44) {
            this.#endField();
          } else if (c === 34) {
            // A quote inside an unquoted field is kept as text (lenient, like most readers).
            this.#append('"');
          } else {
            this.#endRecord(out);
            this.#line++;
            if (c === 13) {
              if (i < n) {
                if (chunk.charCodeAt(i) === 10) i++;
              } else {
                this.#pendingCr = true;
              }
            }
          }
          break;
        }
        case State.Quoted: {
          QUOTED_SPECIAL.lastIndex = i;
          const match = QUOTED_SPECIAL.exec(chunk);
          const stop = match ? match.index : n;
          if (stop > i) this.#append(chunk.slice(i, stop));
          if (!match) {
            i = n;
            break;
          }
          i = stop + 1;
          if (chunk.charCodeAt(stop) === 10) {
            this.#append('\n');
            this.#line++;
          } else {
            this.#state = State.QuoteInQuoted;
          }
          break;
        }
        case State.QuoteInQuoted: {
          if (chunk.charCodeAt(i) === 34) {
            this.#append('"');
            this.#state = State.Quoted;
            i++;
          } else {
            this.#state = State.AfterClose;
          }
          break;
        }
        case State.AfterClose: {
          const c = chunk.charCodeAt(i);
          if (c === 44 || c === 10 || c === 13) {
            // Hand the separator back to the unquoted branch.
            this.#state = State.Unquoted;
          } else {
            this.#error ??= `unexpected text after a closing quote on line ${this.#line}`;
            this.#state = State.Unquoted;
          }
          break;
        }
      }
    }
    return out;
  }

  /** Flush the last record (a file need not end with a line break). */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    if (this.#state === State.Quoted) {
      this.#error ??= `a quoted field opened on line ${this.#quotedLine} is never closed`;
    }
    if (this.#state !== State.FieldStart || this.#fields.length > 0 || this.#field !== '') this.#endRecord(out);
    this.#state = State.FieldStart;
    return out;
  }

  #append(text: string): void {
    this.#chars += text.length;
    if (this.#chars > MAX_RECORD_CHARS) {
      this.#error ??= `the record is longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`;
      return;
    }
    this.#field += text;
  }

  #endField(): void {
    this.#fields.push(this.#field);
    this.#field = '';
    this.#state = State.FieldStart;
  }

  #endRecord(out: CsvRecord[]): void {
    this.#fields.push(this.#field);
    // Blank lines, and lines of empty cells (`,,,` from spreadsheets), are not records.
    const blank = !this.#sawQuote && this.#fields.every((field) => field.trim() === '');
    if (!blank || this.#error) {
      out.push(this.#error ? { line: this.#recordLine, fields: this.#fields, error: this.#error } : { line: this.#recordLine, fields: this.#fields });
    }
    this.#fields = [];
    this.#field = '';
    this.#error = undefined;
    this.#chars = 0;
    this.#sawQuote = false;
    this.#state = State.FieldStart;
    this.#recordLine = this.#line + 1;
  }
}

/** Every record of a stream of text chunks. */
export async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  const parser = new CsvParser();
  for await (const chunk of chunks) yield* parser.push(chunk);
  yield* parser.end();
}

/** Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * A cell that a spreadsheet would run as a formula gets a leading `'` (plain numbers such as
 * `-1.29` stay as they are); the bulk reader removes that mark again, so reports and rejects
 * round-trip.
 */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** Undo `neutraliseCell` when reading a file smile may have written. */
export function unneutraliseCell(value: string): string {
  return value.length > 1 && value.charCodeAt(0) === 39 && FORMULA_START.test(value.slice(1)) && !PLAIN_NUMBER.test(value.slice(1)) ? value.slice(1) : value;
}

/** One CSV cell: neutralised against formula injection, quoted when it must be. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = neutraliseCell(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (CRLF, as RFC 4180 and spreadsheets expect). */
export function csvLine(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
