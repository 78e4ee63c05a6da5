import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { ExitCode, SmileCliError, UsageError } from '../errors.js';
import { jsonText } from '../output/output.js';
import { csvLine } from './csv.js';
import { writeFailureReason, writeFullySync } from '../fs/durable.js';
import { OrderedSpool } from './ordered-spool.js';
import type { BulkRowDocument, RowResult } from './row-result.js';
import type { InputFormat } from './values.js';

export type ReportFormat = 'csv' | 'jsonl';

/** `--report PATH`: CSV or JSONL by extension. */
export function reportFormatOf(path: string, flag: string): ReportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new UsageError(`${flag} ${path}: the name must end in .csv or .jsonl (that picks the format).`);
}

/** Columns of a CSV report: one line per input row. */
export const REPORT_COLUMNS = [
  'line',
  'user_id',
  'job_id',
  'smile_job_id',
  'outcome',
  'ok',
  'retryable',
  'result_code',
  'result_text',
  'reason',
  'error_code',
  'warnings',
] as const satisfies readonly (keyof BulkRowDocument)[];
type ReportColumn = (typeof REPORT_COLUMNS)[number];

/** What to tell the user when a report or rejects file fails (the caller knows the command that rebuilds it). */
export interface OutputFileOptions {
  /** The next step when a write fails mid-run, e.g. "… then run: smile bulk users.csv --resume --report r.csv". */
  writeHint?: string;
}

/**
 * Buffered appends to a file we own for this run (the journal, not this, is the crash-safe
 * record), in input order: a row's record goes to an OrderedSpool as the row finishes and
 * reaches the file, sorted by line, on `close`. Every write is checked: a short write (a nearly
 * full disk takes part of it without an error) is continued until all bytes are written or one fails; `close` flushes and fsyncs. Any
 * failure names the file (exit 5, like the journal's) and every later call fails the same way:
 * a report is never silently truncated.
 */
class OutputFile {
  readonly #path: string;
  readonly #label: 'report' | 'rejects';
  readonly #hint: string | undefined;
  #fd: number | undefined;
  #buffer: string[] = [];
  #size = 0;
  #failed: SmileCliError | undefined;
  #spool: OrderedSpool | undefined;

  constructor(path: string, label: 'report' | 'rejects', options: OutputFileOptions) {
    this.#path = path;
    this.#label = label;
    this.#hint = options.writeHint;
    try {
      this.#fd = openSync(path, 'w', 0o644);
      this.#spool = new OrderedSpool(path);
    } catch (error) {
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
      throw new SmileCliError(
        `The ${label} file ${path} cannot be opened for writing: ${writeFailureReason(error)}.`,
        ExitCode.api,
        `${label}_write`,
        {
          hint: `Nothing was sent. Pick a --${label} path in a directory you can write to, then run again.`,
          cause: error,
        },
      );
    }
  }

  /** Add a row's record under its input line (written, in line order, on close). */
  writeRow(line: number, text: string): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#spool?.add(line, text);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Text that goes first, as it comes (a CSV header). */
  write(text: string): void {
    if (this.#failed) throw this.#failed;
    this.#buffer.push(text);
    this.#size += text.length;
    if (this.#size >= 64 * 1024) this.flush();
  }

  flush(): void {
    if (this.#failed) throw this.#failed;
    if (this.#buffer.length === 0 || this.#fd === undefined) return;
    const bytes = Buffer.from(this.#buffer.join(''), 'utf8');
    this.#buffer = [];
    this.#size = 0;
    try {
      writeFullySync(this.#fd, bytes);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Flush, fsync and close; throws (naming the file) if any of it failed, now or before. */
  close(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    try {
      this.flush();
      try {
        if (this.#spool) for (const chunk of this.#spool.sorted()) writeFullySync(fd, chunk);
      } catch (error) {
        throw this.#fail(error);
      }
      try {
        fsyncSync(fd);
      } catch (error) {
        // A pipe or character device has nothing to sync; anything else lost data.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw this.#fail(error);
      }
    } finally {
      this.#fd = undefined;
      this.#spool?.dispose();
      try {
        closeSync(fd);
      } catch (error) {
        // close(2) can report a failed delayed write (NFS): the file is not what we wrote.
        if (!this.#failed) this.#fail(error);
      }
    }
    if (this.#failed) throw this.#failed;
  }

  #fail(error: unknown): SmileCliError {
    this.#failed ??= new SmileCliError(
      `The ${this.#label} file ${this.#path} could not be written: ${writeFailureReason(error)}.`,
      ExitCode.api,
      `${this.#label}_write`,
      {
        hint:
          this.#hint ??
          'Free disk space or fix the permissions, then run again with --resume: the journal rebuilds it, nothing is sent twice.',
        cause: error,
      },
    );
    return this.#failed;
  }
}

/**
 * `--report`: one line per input row with its outcome and ids, in input order (sorted by `line`
 * when the run ends, whatever order the rows finished in). JSONL lines are the full registration document; CSV
 * lines are flat, with every cell neutralised against spreadsheet formula injection.
 */
export class ReportWriter {
  readonly path: string;
  readonly format: ReportFormat;
  #file: OutputFile;

  constructor(path: string, options: OutputFileOptions = {}) {
    this.path = path;
    this.format = reportFormatOf(path, '--report');
    this.#file = new OutputFile(path, 'report', options);
    if (this.format === 'csv') this.#file.write(csvLine(REPORT_COLUMNS));
  }

  write(result: RowResult): void {
    if (this.format === 'jsonl') {
      this.#file.writeRow(result.line, `${jsonText(result.doc)}\n`);
      return;
    }
    const doc = result.doc;
    const cell = (key: ReportColumn): string | number | boolean | null => {
      // Typed, but read back from a journal or sent by a server: anything else is written as JSON.
      const value: unknown = doc[key];
      if (Array.isArray(value)) return value.join(';');
      return value === undefined || value === null
        ? null
        : typeof value === 'object'
          ? JSON.stringify(value)
          : (value as string | number | boolean);
    };
    this.#file.writeRow(result.line, csvLine(REPORT_COLUMNS.map(cell)));
  }

  close(): void {
    this.#file.close();
  }
}

/** Re-point a path written relative to one directory so it works relative to another. */
export function rebasePath(path: string, fromDir: string, toDir: string): string {
  if (path === '' || isAbsolute(path) || resolve(fromDir) === resolve(toDir)) return path;
  return relative(toDir, resolve(fromDir, path));
}

function rebaseList(value: string, fromDir: string, toDir: string): string {
  return value
    .split(';')
    .map((item) => (item.trim() === '' ? item : rebasePath(item.trim(), fromDir, toDir)))
    .join(';');
}

/**
 * A failed row as the `--rejects` file has it: in the input's own format plus a `reason`, ready to
 * re-run. Selfie paths are re-pointed from the input's directory to `outputDir`, and a row whose
 * job may exist at Smile ID (a retryable failure after its prep upload) carries that job_id, so a
 * re-run can never give the user a second job. Also what the HTML report shows as the row to fix.
 */
export class RejectRows {
  readonly format: InputFormat;
  readonly #columns: string[];
  readonly #fromDir: string;
  readonly #toDir: string;

  constructor(options: {
    format: InputFormat;
    columns: readonly string[] | undefined;
    inputDir: string;
    outputDir: string;
  }) {
    this.format = options.format;
    this.#fromDir = options.inputDir;
    this.#toDir = options.outputDir;
    const columns = [...(options.columns ?? [])];
    if (this.format === 'csv') {
      if (!columns.includes('job_id')) columns.push('job_id');
      if (!columns.includes('reason')) columns.push('reason');
    }
    this.#columns = columns;
  }

  /** The CSV header line (undefined for JSONL). */
  header(): string | undefined {
    return this.format === 'csv' ? csvLine(this.#columns) : undefined;
  }

  /** The row's line, with its line break; undefined for a row that ended as asked. */
  text(result: RowResult): string | undefined {
    if (result.status === 'ok') return undefined;
    const reason = result.reason ?? result.outcome;
    const pinnedJob = result.status === 'retryable' ? result.jobId : undefined;
    if (this.format === 'csv') {
      const fields = Array.isArray(result.raw) ? [...result.raw] : [];
      const cells = this.#columns.map((column, index) => {
        const value = fields[index] ?? '';
        if (column === 'selfie') return rebasePath(value.trim(), this.#fromDir, this.#toDir);
        if (column === 'liveness') return rebaseList(value, this.#fromDir, this.#toDir);
        if (column === 'job_id') return pinnedJob ?? value;
        if (column === 'reason') return reason;
        return value;
      });
      // Fields past the header (a malformed row) are kept after the known columns.
      if (fields.length > this.#columns.length) cells.push(...fields.slice(this.#columns.length));
      return csvLine(cells);
    }
    let object: Record<string, unknown>;
    if (typeof result.raw === 'string') object = { _unparsed: result.raw };
    else if (Array.isArray(result.raw)) object = {};
    else {
      object = { ...result.raw };
      for (const key of Object.keys(object)) {
        const value = object[key];
        const name = key.trim().toLowerCase();
        if (name === 'selfie' && typeof value === 'string')
          object[key] = rebasePath(value.trim(), this.#fromDir, this.#toDir);
        if (name === 'liveness') {
          if (typeof value === 'string') object[key] = rebaseList(value, this.#fromDir, this.#toDir);
          else if (Array.isArray(value))
            object[key] = value.map((item) =>
              typeof item === 'string' ? rebasePath(item.trim(), this.#fromDir, this.#toDir) : item,
            );
        }
      }
    }
    if (pinnedJob) object['job_id'] = pinnedJob;
    object['reason'] = reason;
    return `${jsonText(object)}\n`;
  }
}

/** `--rejects`: the rows that did not end as asked (RejectRows), in input order. */
export class RejectsWriter {
  readonly path: string;
  readonly format: InputFormat;
  #file: OutputFile;
  #rows: RejectRows;
  #count = 0;

  constructor(
    path: string,
    options: { format: InputFormat; columns: readonly string[] | undefined; inputDir: string } & OutputFileOptions,
  ) {
    this.path = path;
    this.format = options.format;
    this.#rows = new RejectRows({ ...options, outputDir: dirname(resolve(path)) });
    this.#file = new OutputFile(path, 'rejects', options);
    const header = this.#rows.header();
    if (header !== undefined) this.#file.write(header);
  }

  get count(): number {
    return this.#count;
  }

  write(result: RowResult): void {
    const text = this.#rows.text(result);
    if (text === undefined) return;
    this.#count++;
    this.#file.writeRow(result.line, text);
  }

  close(): void {
    this.#file.close();
  }
}
