import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { InputError, UsageError, fileErrorReason, isSmileCliError, printable } from '../errors.js';
import type { Environment } from '../config/validate.js';
import type { GeoInfo } from '../smile/types.js';
import { checkId, parseGeo, parseParams, parseSandboxResult } from '../parse.js';
import { assertCallbackUrl } from '../config/validate.js';
import { csvRecords, unneutraliseCell } from './csv.js';
import type { SeenUserIds } from './seen.js';
import { inShard } from './shard.js';
import type { Shard } from './shard.js';
import type { InputFormat } from './values.js';

/**
 * The input of `smile bulk FILE|-`: open a file or stdin, fingerprint it for the journal, stream
 * its records (CSV with a header, or JSONL) and check each one as a registration. Memory stays
 * flat: records are streamed, never loaded whole.
 */

/** Columns of product.md ("Bulk"); `param.<key>` columns come on top. */
export const KNOWN_COLUMNS = [
  'user_id',
  'selfie',
  'job_id',
  'liveness',
  'callback_url',
  'allow_re_enroll',
  'use_enrolled_image',
  'latitude',
  'longitude',
  'altitude',
  'sandbox_result',
] as const;
/** Columns smile itself adds to reports and rejects: accepted and ignored, so a rejects file re-runs as is. */
const OWN_COLUMNS = new Set(['reason', 'line']);
const STDIN_FINGERPRINT_BYTES = 64 * 1024;
const MAX_LINE_CHARS = 1 << 20;

/** Where the rows come from: a file (readable more than once) or stdin (once). */
export interface BulkInput {
  /** As given on the command line (`-` for stdin). */
  display: string;
  /** Absolute path of a file; undefined for stdin. */
  path: string | undefined;
  /** Relative selfie paths in rows resolve against this directory. */
  baseDir: string;
  format: InputFormat;
  /** The raw bytes. A file can be opened again; stdin only once. */
  open(): AsyncIterable<Buffer>;
  /** stdin only: the first bytes (for the journal's fingerprint of the input). */
  head?: Buffer;
}

/** One record of the input before validation. */
export interface InputRecord {
  line: number;
  /** Normalised column name → value (CSV: strings; JSONL: JSON values). */
  values: Record<string, unknown>;
  /** What a rejects file writes back: CSV fields in header order, a JSONL object, or the unparsable line. */
  raw: string[] | Record<string, unknown> | string;
  /** The record could not be read (malformed CSV, not JSON …). */
  error?: string;
}

export interface InputRecords {
  /** CSV: the header as written (after normalisation); JSONL: undefined. */
  columns: string[] | undefined;
  /** Header columns smile does not know (ignored, worth a warning). */
  unknownColumns: string[];
  records: AsyncGenerator<InputRecord>;
}

/** A row ready to register (paths absolute, values checked). */
export interface BulkRow {
  line: number;
  userId: string;
  jobId: string | undefined;
  selfiePath: string | undefined;
  livenessPaths: string[];
  params: Record<string, string>;
  callbackUrl: string | undefined;
  allowReEnroll: boolean;
  useEnrolledImage: boolean;
  geo: GeoInfo | undefined;
  sandboxResult: '0' | '1' | '2' | undefined;
  raw: InputRecord['raw'];
}

/** A row that cannot be sent, with its line number and why. */
export interface RowProblem {
  line: number;
  userId: string | undefined;
  reason: string;
  code: string;
  raw: InputRecord['raw'];
}

export type RowCheck = { ok: true; row: BulkRow } | { ok: false; problem: RowProblem };

function formatFromName(name: string): InputFormat | undefined {
  const ext = extname(name).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return ext === '.tsv' ? undefined : 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return undefined;
}

/** A JSONL file starts with `{` (after a BOM and blanks); anything else is read as CSV. */
function sniffFormat(head: Buffer): InputFormat {
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return text.startsWith('{') ? 'jsonl' : 'csv';
}

/**
 * Open the input of `smile bulk FILE|-`. A missing or unreadable file is exit 4. The format comes
 * from `--format`, else the extension, else the first byte (`{` → JSONL).
 */
export async function openBulkInput(
  file: string,
  format: InputFormat | undefined,
  stdin: NodeJS.ReadableStream,
  cwd: string = process.cwd(),
): Promise<BulkInput> {
  if (file === '-') {
    const { head, rest } = await peekStream(stdin, STDIN_FINGERPRINT_BYTES);
    let opened = false;
    return {
      display: '-',
      path: undefined,
      baseDir: cwd,
      format: format ?? sniffFormat(head),
      head,
      open() {
        if (opened) throw new Error('stdin can be read only once');
        opened = true;
        return rest;
      },
    };
  }
  const path = resolve(cwd, file);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `No such file: ${printable(file)}.`
        : `Cannot read ${printable(file)}: ${fileErrorReason(error)}.`,
      {
        code: 'input_unreadable',
        hint: 'Pass the path of a CSV (with a header) or JSONL file, or - to read stdin.',
      },
    );
  }
  if (!info.isFile())
    throw new InputError(`${printable(file)} is not a file.`, {
      code: 'input_unreadable',
      hint: 'Pass the path of a CSV or JSONL file, or - to read stdin.',
    });
  let detected = format ?? formatFromName(path);
  if (!detected) {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      detected = sniffFormat(buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
  }
  return {
    display: file,
    path,
    baseDir: dirname(path),
    format: detected,
    open: () => createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>,
  };
}

/** Read up to `bytes` from a stream without losing them: `rest` yields them first, then the remainder. */
async function peekStream(
  stream: NodeJS.ReadableStream,
  bytes: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const taken: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    taken.push(chunk);
    size += chunk.length;
  }
  const all = Buffer.concat(taken);
  async function* rest(): AsyncGenerator<Buffer> {
    if (all.length > 0) yield all;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { head: all.subarray(0, bytes), rest: rest() };
}

/** UTF-8 text chunks (a BOM is dropped; invalid bytes become U+FFFD, caught per row). */
async function* decodeUtf8(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of bytes) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== '') yield text;
  }
  const tail = decoder.decode();
  if (tail !== '') yield tail;
}

/** Known columns are matched case-insensitively; `param.<key>` keeps the key as written. */
export function normaliseColumn(name: string): string {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  if ((KNOWN_COLUMNS as readonly string[]).includes(lower) || OWN_COLUMNS.has(lower)) return lower;
  if (lower.startsWith('param.')) return `param.${trimmed.slice(6).trim()}`;
  return trimmed;
}

function isKnownColumn(name: string): boolean {
  return (
    (KNOWN_COLUMNS as readonly string[]).includes(name) ||
    OWN_COLUMNS.has(name) ||
    name.startsWith('param.') ||
    name === '' ||
    name === 'params'
  );
}

/**
 * Stream the records of an input: CSV (the header is read and checked first: exit 4 without
 * one, without a user_id column, or with a column twice) or JSONL (one object per line).
 */
export async function readInputRecords(
  input: BulkInput,
  bytes: AsyncIterable<Buffer> = input.open(),
): Promise<InputRecords> {
  const text = decodeUtf8(bytes);
  return input.format === 'csv' ? readCsv(input, text) : readJsonl(text);
}

async function readCsv(input: BulkInput, text: AsyncIterable<string>): Promise<InputRecords> {
  const source = csvRecords(text);
  const first = await source.next();
  const hint = `The first line must name the columns, e.g. user_id,selfie (see \`smile bulk --help\`).`;
  const display = printable(input.display);
  if (first.done)
    throw new InputError(`${display} is empty: a CSV needs a header line with at least user_id.`, {
      code: 'no_header',
      hint,
    });
  const header = first.value;
  if (header.error)
    throw new InputError(`${display} line ${header.line}: the header cannot be read: ${header.error}.`, {
      code: 'no_header',
      hint,
    });
  const columns = header.fields.map(normaliseColumn);
  if (!columns.includes('user_id')) {
    throw new InputError(`${display} has no user_id column (header: ${printable(columns.join(', '))}).`, {
      code: 'no_user_id_column',
      hint,
    });
  }
  const seen = new Set<string>();
  for (const column of columns) {
    if (column !== '' && seen.has(column))
      throw new InputError(`${display}: the column ${printable(column)} appears twice in the header.`, {
        code: 'duplicate_column',
        hint: 'Keep one column of each name.',
      });
    seen.add(column);
  }
  const unknownColumns = columns.filter((column) => !isKnownColumn(column));
  async function* records(): AsyncGenerator<InputRecord> {
    for await (const record of source) {
      const raw = record.fields;
      if (record.error) {
        yield { line: record.line, values: {}, raw, error: record.error };
        continue;
      }
      const extra = raw.slice(columns.length);
      if (extra.some((field) => field.trim() !== '')) {
        yield {
          line: record.line,
          values: {},
          raw,
          error: `it has ${raw.length} fields but the header has ${columns.length} (a comma inside a value needs quotes)`,
        };
        continue;
      }
      const values: Record<string, unknown> = {};
      columns.forEach((column, index) => {
        if (column !== '') values[column] = unneutraliseCell(raw[index] ?? '');
      });
      yield { line: record.line, values, raw: raw.slice(0, columns.length) };
    }
  }
  return { columns, unknownColumns, records: records() };
}

async function readJsonl(text: AsyncIterable<string>): Promise<InputRecords> {
  async function* records(): AsyncGenerator<InputRecord> {
    let line = 0;
    let carry = '';
    const handle = (content: string): InputRecord | undefined => {
      line++;
      const trimmed = content.replace(/\r$/, '').trim();
      if (trimmed === '') return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(trimmed);
      } catch (error) {
        return { line, values: {}, raw: trimmed, error: `not valid JSON (${printable((error as Error).message)})` };
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        return { line, values: {}, raw: trimmed, error: 'not a JSON object' };
      const values: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>))
        values[normaliseColumn(key)] = value;
      return { line, values, raw: parsed as Record<string, unknown> };
    };
    // A line longer than 1 MiB is reported and skipped up to its end (memory stays bounded).
    let skipping = false;
    for await (const chunk of text) {
      carry += chunk;
      let index: number;
      while ((index = carry.indexOf('\n')) !== -1) {
        if (skipping) {
          skipping = false;
          line++;
        } else {
          const record = handle(carry.slice(0, index));
          if (record) yield record;
        }
        carry = carry.slice(index + 1);
      }
      if (carry.length > MAX_LINE_CHARS) {
        if (!skipping)
          yield { line: line + 1, values: {}, raw: carry.slice(0, 200), error: 'the line is longer than 1 MiB' };
        skipping = true;
        carry = '';
      }
    }
    if (carry !== '' && !skipping) {
      const record = handle(carry);
      if (record) yield record;
    }
  }
  return { columns: undefined, unknownColumns: [], records: records() };
}

/** The user_id of a record as written (for sharding and messages), '' when absent. */
export function recordUserId(record: InputRecord): string {
  const value = record.values['user_id'];
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

export interface ValidateContext {
  baseDir: string;
  environment: Environment | undefined;
  /** user_ids so far, with the line each first appeared on (duplicates are flagged). */
  seen: SeenUserIds;
}

class RowError extends Error {
  constructor(
    message: string,
    readonly code = 'invalid_row',
  ) {
    super(message);
  }
}

function textValue(values: Record<string, unknown>, key: string): string {
  const value = values[key];
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new RowError(`${key} must be text, not ${Array.isArray(value) ? 'a list' : 'an object'}`);
}

function boolValue(values: Record<string, unknown>, key: string): boolean {
  const value = values[key];
  if (value === undefined || value === null || value === '') return false;
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(text)) return true;
  if (['false', 'no', 'n', '0', ''].includes(text)) return false;
  throw new RowError(`${key} is "${printable(String(value), 80)}": use true or false`);
}

function listValue(values: Record<string, unknown>, key: string): string[] {
  const value = values[key];
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (typeof item !== 'string') throw new RowError(`${key} must list paths (text)`);
        return item.trim();
      })
      .filter((item) => item !== '');
  }
  return textValue(values, key)
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function paramsOf(values: Record<string, unknown>): Record<string, string> {
  const pairs: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (typeof value === 'object') throw new RowError(`param ${key} must be text`);
    const text = String(value);
    if (text.trim() === '') return;
    pairs.push(`${key}=${text}`);
  };
  for (const [key, value] of Object.entries(values)) if (key.startsWith('param.')) add(key.slice(6), value);
  const nested = values['params'];
  if (nested !== undefined && nested !== null) {
    if (typeof nested !== 'object' || Array.isArray(nested))
      throw new RowError('params must be an object of key: text');
    for (const [key, value] of Object.entries(nested as Record<string, unknown>)) add(key, value);
  }
  return parseParams(pairs, 'param');
}

/** Columns that hold one line: a line break in one of them is a stray quote that swallowed lines. */
const SINGLE_LINE_COLUMNS: readonly string[] = KNOWN_COLUMNS;

/**
 * A CSV record whose quoted value in a one-line column spans several lines: a stray `"` that
 * closed by chance at the end of a later line. Name the lines it swallowed instead of guessing.
 */
function checkSwallowedLines(line: number, fields: readonly string[], values: Record<string, unknown>): void {
  const column = SINGLE_LINE_COLUMNS.find((key) => {
    const value = values[key];
    return typeof value === 'string' && /[\r\n]/.test(value.trim());
  });
  if (column === undefined) return;
  const last = line + fields.reduce((sum, field) => sum + (field.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
  const swallowed = last === line + 1 ? `line ${last} was` : `lines ${line + 1}–${last} were`;
  throw new RowError(
    `${column} spans lines ${line}–${last}: a stray " on line ${line} made this one row and ${swallowed} read as part of it; fix the quote and run those lines again`,
    'stray_quote',
  );
}

async function checkFile(path: string, baseDir: string, label: string): Promise<string> {
  const absolute = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new RowError(`${label} ${printable(path)} is not a file`, 'selfie_missing');
  } catch (error) {
    if (error instanceof RowError) throw error;
    // In our own words (ELOOP → "too many symbolic links"), naming the path as the row gave it.
    throw new RowError(`${label} ${printable(path)}: ${fileErrorReason(error)}`, 'selfie_missing');
  }
  return absolute;
}

/** Controls a one-line value must not hold: C0 (tab and line breaks too), DEL, C1, bidi overrides. */
// eslint-disable-next-line no-control-regex
const LINE_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** In a partner param tab and line breaks are allowed (free text). */
// eslint-disable-next-line no-control-regex
const TEXT_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function refuseControls(label: string, value: unknown, pattern: RegExp): void {
  if (typeof value === 'string' && pattern.test(value)) {
    throw new RowError(
      `${label} "${printable(value, 80)}" contains control characters (shown here as escapes); remove them`,
      'control_characters',
    );
  }
}

/**
 * Terminal escapes, NUL bytes and bidi overrides have no place in ids, paths or flags: refused
 * per row before any of them reaches a file name, a message or the API.
 */
function checkControls(values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith('param.')) refuseControls(`param ${key.slice(6)}`, value, TEXT_CONTROLS);
    else if (key === 'params' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [param, text] of Object.entries(value as Record<string, unknown>))
        refuseControls(`param ${param}`, text, TEXT_CONTROLS);
    } else if (Array.isArray(value)) for (const item of value) refuseControls(key, item, LINE_CONTROLS);
    else if ((KNOWN_COLUMNS as readonly string[]).includes(key))
      refuseControls(key, typeof value === 'string' ? value.trim() : value, LINE_CONTROLS);
  }
}

/**
 * Check one record as a registration (product.md columns): a bad row comes back as a value with
 * its line number and reason; paths are resolved against the input's directory and must exist.
 */
export async function validateRecord(record: InputRecord, context: ValidateContext): Promise<RowCheck> {
  // A reason is one line of our words; any piece of input quoted in it is shown with its escapes.
  const problem = (reason: string, code = 'invalid_row', userId?: string): RowCheck => ({
    ok: false,
    problem: { line: record.line, userId, reason: printable(reason, 2000), code, raw: record.raw },
  });
  if (record.error) return problem(record.error, 'unreadable_row');
  let userId: string | undefined;
  try {
    const values = record.values;
    for (const [key, value] of Object.entries(values)) {
      if (typeof value === 'string' && value.includes('\uFFFD'))
        throw new RowError(`${key} is not valid UTF-8 text (save the file as UTF-8)`, 'not_utf8');
    }
    if (Array.isArray(record.raw)) checkSwallowedLines(record.line, record.raw, values);
    const rawUserId = textValue(values, 'user_id');
    if (rawUserId === '') throw new RowError('user_id is missing', 'missing_user_id');
    refuseControls('user_id', rawUserId, LINE_CONTROLS);
    userId = checkId(rawUserId, 'user_id');
    const first = context.seen.firstLine(userId, record.line);
    if (first !== undefined)
      throw new RowError(
        `user_id ${userId} is also on line ${first}: one registration per user per file`,
        'duplicate_user_id',
      );
    checkControls(values);

    const jobIdText = textValue(values, 'job_id');
    const jobId = jobIdText === '' ? undefined : checkId(jobIdText, 'job_id');
    const useEnrolledImage = boolValue(values, 'use_enrolled_image');
    const allowReEnroll = boolValue(values, 'allow_re_enroll');
    const selfie = textValue(values, 'selfie');
    // A registration always sends a selfie (every official SDK refuses a job_type 4 without one);
    // use_enrolled_image replaces the selfie on file with the row's new one (register --use-enrolled-image).
    if (selfie === '' && useEnrolledImage)
      throw new RowError(
        "use_enrolled_image replaces the selfie on file with a new one: the row's selfie is missing",
        'missing_selfie',
      );
    if (selfie === '')
      throw new RowError('selfie is missing (a path to the image, relative to the input file)', 'missing_selfie');

    const lat = textValue(values, 'latitude');
    const lon = textValue(values, 'longitude');
    const alt = textValue(values, 'altitude');
    let geo: GeoInfo | undefined;
    if (lat !== '' || lon !== '' || alt !== '') {
      if (lat === '' || lon === '')
        throw new RowError('latitude and longitude go together (altitude is optional)', 'invalid_geo');
      geo = parseGeo(alt === '' ? `${lat},${lon}` : `${lat},${lon},${alt}`, 'latitude,longitude,altitude');
    }
    const sandboxText = textValue(values, 'sandbox_result');
    const sandboxResult = sandboxText === '' ? undefined : parseSandboxResult(sandboxText, 'sandbox_result');
    if (sandboxResult !== undefined && context.environment === 'production')
      throw new RowError(
        'sandbox_result is refused in production: it only steers sandbox results',
        'sandbox_result_in_production',
      );
    const callbackText = textValue(values, 'callback_url');
    const callbackUrl =
      callbackText === ''
        ? undefined
        : assertCallbackUrl(callbackText, context.environment ?? 'sandbox', 'callback_url');
    const params = paramsOf(values);

    const selfiePath = selfie === '' ? undefined : await checkFile(selfie, context.baseDir, 'selfie');
    const livenessPaths: string[] = [];
    for (const path of listValue(values, 'liveness'))
      livenessPaths.push(await checkFile(path, context.baseDir, 'liveness'));
    return {
      ok: true,
      row: {
        line: record.line,
        userId,
        jobId,
        selfiePath,
        livenessPaths,
        params,
        callbackUrl,
        allowReEnroll,
        useEnrolledImage,
        geo,
        sandboxResult,
        raw: record.raw,
      },
    };
  } catch (error) {
    if (error instanceof RowError) return problem(error.message, error.code, userId);
    if (isSmileCliError(error) && error instanceof UsageError)
      return problem(error.message.replace(/^--/, ''), error.code === 'usage' ? 'invalid_row' : error.code, userId);
    throw error;
  }
}

/** The input's identity for the journal: SHA-256 of the whole file (stdin: of its first 64 KiB). */
export interface InputFingerprint {
  kind: 'sha256' | 'sha256-head';
  value: string;
  bytes: number | null;
}

export interface PrescanResult {
  fingerprint: InputFingerprint;
  /** Records after the header that belong to this shard (bad ones included). */
  rows: number;
  /** Records in the whole input. */
  allRows: number;
}

/**
 * One streaming pass over a file before anything is sent: its SHA-256 (the journal's identity of
 * the input), the header checks (exit 4 before the journal is created) and the number of rows
 * in this shard (the dashboard's total). Memory stays flat.
 */
export async function prescanInput(input: BulkInput, shard: Shard | undefined): Promise<PrescanResult> {
  if (!input.path) {
    const head = input.head ?? Buffer.alloc(0);
    return {
      fingerprint: { kind: 'sha256-head', value: createHash('sha256').update(head).digest('hex'), bytes: null },
      rows: Number.NaN,
      allRows: Number.NaN,
    };
  }
  const hash = createHash('sha256');
  let bytes = 0;
  async function* tap(): AsyncGenerator<Buffer> {
    for await (const chunk of input.open()) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  }
  const { records } = await readInputRecords(input, tap());
  let rows = 0;
  let allRows = 0;
  for await (const record of records) {
    allRows++;
    if (inShard(recordUserId(record), shard)) rows++;
  }
  return { fingerprint: { kind: 'sha256', value: hash.digest('hex'), bytes }, rows, allRows };
}
