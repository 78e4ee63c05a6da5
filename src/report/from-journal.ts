import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { basename, dirname, resolve } from 'node:path';
import type { RunContext } from '../context.js';
import { InputError, UsageError, fileErrorReason, printable } from '../errors.js';
import { csvRecords, unneutraliseCell } from '../bulk/csv.js';
import { openBulkInput, readInputRecords, recordUserId } from '../bulk/input.js';
import { inShard, parseShard } from '../bulk/shard.js';
import { readFinalRecord, readJournal } from '../bulk/journal.js';
import type { JournalEntry, JournalState } from '../bulk/journal.js';
import { REPORT_COLUMNS, reportFormatOf } from '../bulk/report.js';
import { rowDocument } from '../bulk/row-result.js';
import type { BulkOutcome, BulkRowDocument, RowResult, RowStatus } from '../bulk/row-result.js';
import { BULK_OUTCOMES } from '../bulk/summary.js';
import { shellQuote } from '../output/shell.js';
import type { Environment } from '../config/validate.js';
import { fixContextFor, selfieOf, thumbnailsAllowed } from './bulk-html.js';
import { HtmlReportBuilder } from './html-report.js';
import type { ReportMeta } from './html-report.js';
import { needsAttention, reportRowOf } from './rows.js';
import type { FixContext } from './rows.js';
import { THUMBNAIL_CAP } from './thumbnails.js';

/** What `smile report` is asked to do. */
export interface ReportValues {
  journal: string;
  html: string;
  report: string | undefined;
  input: string | undefined;
  htmlThumbnails: boolean;
}

/** The one JSON document of `smile report --json`. */
export interface ReportDocument {
  ok: true;
  html: string;
  journal: string;
  report: string | null;
  input: string | null;
  rows: number;
  need_attention: number;
  outcomes: Record<string, number>;
  thumbnails: boolean;
}

/** A file named on the command line that must exist and be a file: InputError (exit 4) in words otherwise. */
async function existingFile(path: string, what: string, hint: string): Promise<string> {
  const absolute = resolve(path);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new InputError(`${what} ${printable(path)} is not a file.`, { code: 'not_a_file', hint });
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT'
        ? `No such ${what}: ${printable(path)}.`
        : `${what} ${printable(path)} cannot be read: ${fileErrorReason(error)}.`,
      { code: code === 'ENOENT' ? 'no_such_file' : 'unreadable', hint },
    );
  }
  return absolute;
}

/** A file that does not start with a journal's run record is not a journal (not "damaged"): said so before reading it. */
async function checkJournalStart(path: string, shown: string): Promise<void> {
  const handle = await open(path, 'r');
  let head: string;
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
  const first = head.split('\n', 1)[0] ?? '';
  let record: unknown;
  try {
    record = JSON.parse(first);
  } catch {
    record = undefined;
  }
  if (head.length > 0 && first.length < head.length && (record as { t?: unknown } | undefined)?.t === 'run') return;
  if (head.length > 0 && /^\{"t":"run"/.test(first)) return;
  throw new InputError(`${printable(shown)} is not a smile bulk journal (it does not start with a run record).`, {
    code: 'not_a_journal',
    hint: JOURNAL_HINT,
  });
}

const JOURNAL_HINT =
  'Pass the journal of a smile bulk run: FILE.smile-journal.jsonl beside its input, or the --journal PATH it was given.';

/**
 * `smile report JOURNAL --html OUT`: the HTML page of a finished or interrupted bulk run, from its
 * journal (every row that was sent, with when it finished), its --report file (rows the journal
 * does not hold: invalid rows, which were never sent) and its input when it can be found (the row
 * to fix, the selfie for a thumbnail, how many rows there are). Nothing is sent.
 */
export async function runReport(values: ReportValues, ctx: RunContext): Promise<number> {
  const journalPath = await existingFile(values.journal, 'journal', JOURNAL_HINT);
  if (values.report) reportFormatOf(values.report, '--report');
  const reportPath = values.report
    ? await existingFile(values.report, 'report', 'Pass the --report file of the same run (.csv or .jsonl).')
    : undefined;
  const htmlPath = resolve(values.html);
  for (const [label, path] of [
    ['the journal', journalPath],
    ['--report', reportPath],
  ] as const)
    if (path === htmlPath)
      throw new UsageError(`--html ${values.html} is ${label}: it would be overwritten.`, {
        hint: 'Write the HTML report to a file of its own, e.g. report.html.',
      });
  await checkJournalStart(journalPath, values.journal);
  const state = await readJournal(journalPath);
  const environment = state.header.environment ?? firstEnvironment(state, journalPath);
  const thumbnails =
    values.htmlThumbnails &&
    (await thumbnailsAllowed({ html: values.html, file: journalPath }, ctx, { environment: environment ?? undefined }));

  const input = await findInput(values.input, state, journalPath);
  const shape = input
    ? { format: input.input.format, columns: input.columns, baseDir: input.input.baseDir }
    : { format: state.header.input.format, columns: undefined, baseDir: dirname(journalPath) };
  const resumeCommand = resumeCommandFor(state, journalPath, input?.display);
  const fix: FixContext = fixContextFor(shape, { resumeCommand });

  const builder = new HtmlReportBuilder(htmlPath, {
    thumbnails: thumbnails ? { cap: THUMBNAIL_CAP } : null,
    openHint: 'Pick an --html path in a directory you can write to, then run again.',
  });
  try {
    const counts = new Map<BulkOutcome, number>();
    let attention = 0;
    let last: number | null = null;
    let unfinished = false;
    const add = (result: RowResult, at: number | null) => {
      const row = reportRowOf(result, fix, { at });
      const raw = result.raw;
      const selfie = raw === undefined ? undefined : selfieOf(raw, shape.columns);
      builder.add(row, selfie ? resolve(shape.baseDir, selfie) : null);
      counts.set(row.outcome, (counts.get(row.outcome) ?? 0) + 1);
      if (needsAttention(row)) attention++;
      if (at !== null) last = Math.max(last ?? at, at);
    };
    const env: Environment = environment === 'production' ? 'production' : 'sandbox';
    for (const [line, entry] of [...state.entries].sort(([a], [b]) => a - b)) {
      const result = journalRow(journalPath, line, entry, env, input?.raws.get(line));
      if (!entry.final) unfinished = true;
      add(result.row, result.at);
    }
    if (reportPath)
      for await (const row of reportRows(reportPath, env))
        if (!state.entries.has(row.line)) add({ ...row, raw: input?.raws.get(row.line) ?? row.raw }, null);
    const rows = builder.rows;
    if (input && input.rows > rows) unfinished = true;
    const started = Date.parse(state.header.started_at);
    const startedAt = Number.isNaN(started) ? null : started;
    const finishedAt: number | null = last;
    const elapsedMs = startedAt !== null && finishedAt !== null ? Math.max(0, finishedAt - startedAt) : null;
    const meta: ReportMeta = {
      input: state.header.input.name,
      environment,
      partnerId: state.header.partner_id ?? null,
      shard: state.header.shard,
      state: unfinished ? 'unfinished' : attention > 0 ? 'attention' : 'done',
      exitCode: null,
      startedAt,
      finishedAt,
      elapsedMs,
      rowsPerSecond: elapsedMs ? (state.entries.size / elapsedMs) * 1000 : null,
      rowsInInput: input ? input.rows : null,
      retries: null,
      rateLimitPauses: null,
      resumes: state.resumes.map((at) => Date.parse(at)).filter((at) => !Number.isNaN(at)),
      journal: journalPath,
      stopped: null,
      nextStep: unfinished || attention > 0 ? nextStep(unfinished, resumeCommand) : null,
      source: `the journal ${basename(journalPath)}${reportPath ? ` and the report ${basename(reportPath)}` : ''}`,
    };
    await builder.finish(meta);
    const document: ReportDocument = {
      ok: true,
      html: htmlPath,
      journal: journalPath,
      report: reportPath ?? null,
      input: input?.path ?? null,
      rows,
      need_attention: attention,
      outcomes: Object.fromEntries(BULK_OUTCOMES.filter((o) => counts.has(o)).map((o) => [o, counts.get(o)!])),
      thumbnails,
    };
    if (ctx.globals.json) ctx.out.writeJson(document);
    else
      ctx.out.stderr(
        `${[
          `Wrote ${printable(values.html)}: ${rows} row${rows === 1 ? '' : 's'}, ${attention} need${attention === 1 ? 's' : ''} attention${thumbnails ? ', with selfie thumbnails' : ''}.`,
          ...(input
            ? []
            : ['  The input file was not found: the page has no rows to fix and no thumbnails (pass --input FILE).']),
          ...(reportPath
            ? []
            : ['  Invalid rows (never sent) are only in the --report file: pass --report PATH to include them.']),
        ].join('\n')}\n`,
      );
    return 0;
  } catch (error) {
    builder.discard();
    throw error;
  }
}

function nextStep(unfinished: boolean, resumeCommand: string | null): string {
  if (unfinished && resumeCommand) return `Finish the run with: ${resumeCommand}`;
  return 'Fix the rows that need attention (see "To fix it"), then run them as a new input.';
}

/** The environment of the first row that has one (journals of older versions have none in their header). */
function firstEnvironment(state: JournalState, path: string): string | null {
  for (const entry of state.entries.values()) {
    const record = readFinalRecord(path, entry);
    if (record && typeof record.doc.environment === 'string') return record.doc.environment;
  }
  return null;
}

/** The command that finishes the run of this journal. */
function resumeCommandFor(state: JournalState, journalPath: string, input: string | undefined): string | null {
  const name = input ?? state.header.input.name;
  if (name === '-') return `… | smile bulk - --resume --journal ${shellQuote(journalPath)}`;
  return [
    'smile bulk',
    shellQuote(name),
    '--resume',
    '--journal',
    shellQuote(journalPath),
    ...(state.header.shard ? ['--shard', state.header.shard] : []),
  ].join(' ');
}

/** A journal entry as a row: its last final record, or (none) a row in flight when the run stopped. */
function journalRow(
  path: string,
  line: number,
  entry: JournalEntry,
  environment: Environment,
  raw: RowResult['raw'] | undefined,
): { row: RowResult; at: number | null } {
  const record = readFinalRecord(path, entry);
  if (record) {
    const status: RowStatus = !record.done ? 'retryable' : record.doc.ok === true ? 'ok' : 'failed';
    const at = record.at ? Date.parse(record.at) : Number.NaN;
    return {
      row: {
        line,
        userId: entry.userId,
        jobId: entry.jobId,
        outcome: record.outcome,
        status,
        reason: typeof record.doc.reason === 'string' ? record.doc.reason : undefined,
        doc: record.doc,
        raw: raw ?? [],
        fromJournal: false,
      },
      at: Number.isNaN(at) ? null : at,
    };
  }
  const reason = `in flight when the run stopped (${entry.step}): its job may still be processing at Smile ID; finishing the run with --resume asks before it sends again`;
  return {
    row: {
      line,
      userId: entry.userId,
      jobId: entry.jobId,
      outcome: 'pending',
      status: 'retryable',
      reason,
      doc: rowDocument({
        line,
        outcome: 'pending',
        status: 'retryable',
        environment,
        userId: entry.userId,
        jobId: entry.jobId,
        smileJobId: entry.smileJobId,
        jobStatus: undefined,
        reason,
      }),
      raw: raw ?? [],
      fromJournal: false,
    },
    at: null,
  };
}

/** The rows of a --report file (JSONL documents, or the CSV columns), one at a time. */
async function* reportRows(path: string, environment: Environment): AsyncGenerator<RowResult> {
  const format = reportFormatOf(path, '--report');
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  if (format === 'jsonl') {
    let number = 0;
    for await (const text of lines) {
      number++;
      if (text.trim() === '') continue;
      let doc: BulkRowDocument;
      try {
        doc = JSON.parse(text) as BulkRowDocument;
      } catch {
        throw new InputError(`The report ${printable(path)} line ${number} is not JSON.`, {
          code: 'report_damaged',
          hint: 'Pass the --report file smile bulk wrote (.jsonl), or leave --report out.',
        });
      }
      if (typeof doc.line === 'number' && BULK_OUTCOMES.includes(doc.outcome)) yield fromDocument(doc);
    }
    return;
  }
  let columns: string[] | undefined;
  for await (const record of csvRecords(withBreaks(lines))) {
    if (!columns) {
      columns = record.fields;
      if (!columns.includes('line') || !columns.includes('outcome'))
        throw new InputError(
          `The report ${printable(path)} is not a smile bulk report (its header has no line/outcome).`,
          {
            code: 'report_damaged',
            hint: `A CSV report starts with: ${REPORT_COLUMNS.join(',')}`,
          },
        );
      continue;
    }
    const cell = (name: string): string | undefined => {
      const index = columns!.indexOf(name);
      const value = index >= 0 ? record.fields[index] : undefined;
      return value === undefined || value === '' ? undefined : unneutraliseCell(value);
    };
    const line = Number(cell('line'));
    const outcome = cell('outcome') as BulkOutcome | undefined;
    if (!Number.isInteger(line) || !outcome || !BULK_OUTCOMES.includes(outcome)) continue;
    const status: RowStatus = cell('ok') === 'true' ? 'ok' : cell('retryable') === 'true' ? 'retryable' : 'failed';
    const doc = rowDocument({
      line,
      outcome,
      status,
      environment,
      userId: cell('user_id'),
      jobId: cell('job_id'),
      smileJobId: cell('smile_job_id'),
      jobStatus: undefined,
      reason: cell('reason'),
      errorCode: cell('error_code'),
      warnings: cell('warnings')?.split(';') ?? [],
    });
    doc.result_code = cell('result_code') ?? null;
    doc.result_text = cell('result_text') ?? null;
    yield fromDocument(doc);
  }

  function fromDocument(doc: BulkRowDocument): RowResult {
    const status: RowStatus = doc.ok === true ? 'ok' : doc.retryable === true ? 'retryable' : 'failed';
    return {
      line: doc.line,
      userId: doc.user_id ?? undefined,
      jobId: doc.job_id ?? undefined,
      outcome: doc.outcome,
      status,
      reason: typeof doc.reason === 'string' ? doc.reason : undefined,
      doc,
      raw: [],
      fromJournal: false,
    };
  }
}

async function* withBreaks(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) yield `${line}\n`;
}

/** The run's input, when it can be found: each row's input record (for the rows to fix), and how many rows. */
interface FoundInput {
  path: string;
  display: string;
  input: Awaited<ReturnType<typeof openBulkInput>>;
  columns: string[] | undefined;
  raws: Map<number, RowResult['raw']>;
  rows: number;
}

async function findInput(
  given: string | undefined,
  state: JournalState,
  journalPath: string,
): Promise<FoundInput | undefined> {
  const name = state.header.input.name;
  const candidates = given
    ? [await existingFile(given, 'input', 'Pass the CSV or JSONL file the run read (--input FILE).')]
    : [
        ...(name === '-' ? [] : [resolve(name)]),
        journalPath.replace(/(\.shard-\d+of\d+)?\.smile-journal\.jsonl$/, ''),
      ].filter((path) => path !== journalPath);
  for (const path of candidates) {
    const exists = await stat(path).then(
      (info) => info.isFile(),
      () => false,
    );
    if (!exists) continue;
    const input = await openBulkInput(path, state.header.input.format, process.stdin);
    const { records, columns } = await readInputRecords(input);
    const raws = new Map<number, RowResult['raw']>();
    const shard = state.header.shard ? parseShard(state.header.shard) : undefined;
    let rows = 0;
    for await (const record of records) {
      if (!inShard(recordUserId(record), shard)) continue;
      rows++;
      const entry = state.entries.get(record.line);
      // Kept only for rows that may need fixing: not for rows the journal has finished as asked.
      if (entry?.final?.done && entry.final.outcome === 'approved') continue;
      // The same person on the same line, or the input changed since: then it is not this run's row.
      if (entry && recordUserId(record) !== entry.userId) continue;
      raws.set(record.line, record.raw);
    }
    return { path, display: given ?? (name === '-' ? path : name), input, columns, raws, rows };
  }
  return undefined;
}
