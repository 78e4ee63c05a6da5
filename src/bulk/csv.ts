/**
 * A streaming RFC 4180 CSV reader: quoted fields (with `""` escapes and line breaks inside),
 * LF, CRLF and lone CR line ends, chunks split anywhere. Each record carries the physical line
 * it starts on, so a bad row can be named by its line number; a malformed record is returned
 * with an `error` instead of stopping the stream.
 *
 * A stray `"` must not eat the rest of a file: a quoted field that crosses a line break and then
 * runs on for more than MAX_QUOTED_LINES lines (or MAX_RECORD_CHARS), to the end of the input, or
 * closes on a later line with text after the closing quote, makes its record an error naming the
 * line the quote opened on and the lines it would swallow; reading then goes on at the line after
 * the one the quote opened on. Only the text since that line is held for this, so memory stays
 * bounded (MAX_RECORD_CHARS plus one chunk).
 */

import { escapeControl } from '../errors.js';

export interface CsvRecord {
  /** 1-based physical line on which the record starts. */
  line: number;
  fields: string[];
  /** Set when the record is malformed (text after a closing quote, unclosed quote, too long). */
  error?: string;
}

/** A record larger than this is refused (a runaway unclosed quote must not eat the memory). */
export const MAX_RECORD_CHARS = 1 << 20;
/** A quoted value may span at most this many lines; one that runs on further is taken for a stray quote. */
export const MAX_QUOTED_LINES = 100;

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
const QUOTED_SPECIAL = /["\r\n]/g;

/** Why a quoted field that crossed a line break is taken for a stray quote. */
type Runaway = { kind: 'lines' } | { kind: 'size' } | { kind: 'eof' } | { kind: 'text'; closedOn: number };

/** Push text chunks in, take whole records out; `end()` flushes the last record. */
export class CsvParser {
  #state: State = State.FieldStart;
  #field = '';
  #fields: string[] = [];
  #line = 1;
  #recordLine = 1;
  #quotedLine = 1;
  /** A `\r` that ended the previous chunk, held back until we know whether `\n` follows. */
  #carry = '';
  #error: string | undefined;
  #chars = 0;
  /** The record contains at least one quoted field (so an empty line `""` is a record). */
  #sawQuote = false;
  /**
   * Set while the open (or just closed) quoted field has crossed a line break: `#replay` then
   * holds the raw text since the end of the line the quote opened on (earlier chunks), and
   * `#replayFrom` where that text starts in the chunk being scanned.
   */
  #recording = false;
  #replay = '';
  #replayFrom = 0;
  /** The record as it stood when the quote crossed its first line break (for the error record). */
  #openingFields: string[] = [];

  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let text = this.#carry + chunk;
    this.#carry = '';
    if (text.endsWith('\r')) {
      this.#carry = '\r';
      text = text.slice(0, -1);
    }
    for (let again = this.#scan(text, out); again !== undefined; again = this.#scan(again, out));
    return out;
  }

  /** Flush the last record (a file need not end with a line break). */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    let text: string | undefined = this.#carry;
    this.#carry = '';
    while (text !== undefined) {
      text = this.#scan(text, out);
      if (text === undefined && this.#state === State.Quoted && this.#recording)
        text = this.#runaway(out, { kind: 'eof' }, '');
    }
    if (this.#state === State.Quoted) {
      this.#error ??= `a quoted field opened on line ${this.#quotedLine} is never closed`;
    }
    if (this.#state !== State.FieldStart || this.#fields.length > 0 || this.#field !== '') this.#endRecord(out);
    this.#state = State.FieldStart;
    return out;
  }

  /**
   * Scan one piece of text. Returns the text to scan next when a runaway quote was found (the
   * lines after the one it opened on), undefined when the text is used up.
   */
  #scan(chunk: string, out: CsvRecord[]): string | undefined {
    let i = 0;
    const n = chunk.length;
    this.#replayFrom = 0;
    while (i < n) {
      switch (this.#state) {
        case State.FieldStart:
        case State.Unquoted: {
          if (this.#state === State.FieldStart && chunk.charCodeAt(i) === 34) {
            this.#state = State.Quoted;
            this.#sawQuote = true;
            this.#quotedLine = this.#line;
            this.#stopRecording();
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
            if (c === 13 && i < n && chunk.charCodeAt(i) === 10) i++;
            this.#endRecord(out);
            this.#line++;
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
          const c = chunk.charCodeAt(stop);
          if (c === 34) {
            this.#state = State.QuoteInQuoted;
            break;
          }
          const crlf = c === 13 && i < n && chunk.charCodeAt(i) === 10;
          if (crlf) i++;
          if (!this.#recording) {
            // The quote crosses its first line break: keep what follows, in case it is a stray one.
            this.#openingFields = [...this.#fields, `"${this.#field}`];
            this.#recording = true;
            this.#replay = '';
            this.#replayFrom = i;
          }
          this.#append(crlf ? '\r\n' : c === 13 ? '\r' : '\n');
          this.#line++;
          if (this.#line - this.#quotedLine > MAX_QUOTED_LINES) return this.#runaway(out, { kind: 'lines' }, chunk);
          if (this.#replay.length + (i - this.#replayFrom) > MAX_RECORD_CHARS)
            return this.#runaway(out, { kind: 'size' }, chunk);
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
            // Hand the separator back to the unquoted branch; the quoted field was well formed.
            this.#stopRecording();
            this.#state = State.Unquoted;
          } else if (this.#recording) {
            return this.#runaway(out, { kind: 'text', closedOn: this.#line }, chunk);
          } else {
            this.#error ??= `unexpected text after a closing quote on line ${this.#line}`;
            this.#state = State.Unquoted;
          }
          break;
        }
      }
    }
    if (this.#recording) {
      this.#replay += chunk.slice(this.#replayFrom);
      if (this.#state === State.Quoted && this.#replay.length > MAX_RECORD_CHARS)
        return this.#runaway(out, { kind: 'size' }, '');
    }
    return undefined;
  }

  /**
   * A quoted field that crossed a line break looks like a stray quote: its record becomes an error
   * and the lines after the one the quote opened on are handed back to be read again.
   */
  #runaway(out: CsvRecord[], why: Runaway, chunk: string): string {
    const replay = this.#replay + chunk.slice(this.#replayFrom);
    const opened = this.#quotedLine;
    const next = opened + 1;
    let swallowed: string;
    if (why.kind === 'lines')
      swallowed = `is still open ${MAX_QUOTED_LINES} lines later: a stray " would swallow lines ${next}–${opened + MAX_QUOTED_LINES} and more`;
    else if (why.kind === 'size')
      swallowed = `runs on for more than ${MAX_RECORD_CHARS / 1024 / 1024} MiB: a stray " would swallow lines ${next}–${this.#line} and more`;
    else if (why.kind === 'text')
      swallowed = `closes only on line ${why.closedOn}, with text after the closing quote: a stray " would swallow ${lineRange(next, why.closedOn)}`;
    else
      swallowed =
        countLines(replay) === 0
          ? 'is never closed'
          : `is never closed: it would swallow ${lineRange(next, opened + countLines(replay))} (to the end of the file)`;
    const resume = replay === '' ? '' : `; this row is skipped and reading goes on at line ${next}`;
    out.push({
      line: this.#recordLine,
      fields: this.#openingFields,
      error: `a quoted field opened on line ${opened} ${swallowed}${resume}`,
    });
    this.#line = next;
    this.#startRecord(next);
    return replay;
  }

  #stopRecording(): void {
    this.#recording = false;
    this.#replay = '';
    this.#openingFields = [];
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
      out.push(
        this.#error
          ? { line: this.#recordLine, fields: this.#fields, error: this.#error }
          : { line: this.#recordLine, fields: this.#fields },
      );
    }
    this.#startRecord(this.#line + 1);
  }

  /** Forget the record just ended (or given up on): the next one starts on `line`. */
  #startRecord(line: number): void {
    this.#fields = [];
    this.#field = '';
    this.#error = undefined;
    this.#chars = 0;
    this.#sawQuote = false;
    this.#state = State.FieldStart;
    this.#stopRecording();
    this.#recordLine = line;
  }
}

/** Physical lines in a piece of text (a last line without a line break counts). */
function countLines(text: string): number {
  if (text === '') return 0;
  const breaks = text.match(/\r\n|\r|\n/g)?.length ?? 0;
  return /[\r\n]$/.test(text) ? breaks : breaks + 1;
}

function lineRange(first: number, last: number): string {
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
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
  return value.length > 1 &&
    value.charCodeAt(0) === 39 &&
    FORMULA_START.test(value.slice(1)) &&
    !PLAIN_NUMBER.test(value.slice(1))
    ? value.slice(1)
    : value;
}

/** Controls a terminal would act on when the file is `cat`: all but tab and line breaks (which quoting handles). */
// eslint-disable-next-line no-control-regex
const CELL_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One CSV cell: control characters shown as escapes (`\x1b`; such a value is refused as input,
 * so a rejects file still re-runs as it should), neutralised against formula injection, quoted
 * when it must be.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = neutraliseCell(String(value).replace(CELL_CONTROLS, escapeControl));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (CRLF, as RFC 4180 and spreadsheets expect). */
export function csvLine(values: readonly (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
