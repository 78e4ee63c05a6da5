import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ExitCode, InputError, SmileCliError, UsageError } from '../errors.js';
import { syncDirectory, writeFailureReason, writeFully } from '../fs/durable.js';
import type { InputFingerprint } from './input.js';
import type { BulkOutcome, BulkRowDocument } from './row-result.js';
import type { InputFormat } from './values.js';

/**
 * The bulk journal: append-only JSONL, one record per step of each row, flushed to disk
 * (fdatasync) before the step it guards goes on. It pins every row's job_id before its first
 * prep upload, so `--resume` after a crash, a kill -9 or a power cut finishes each row exactly
 * once. It never holds the API key: records carry ids, steps and result documents only.
 *
 *   {"t":"run","v":1,"input":{…fingerprint…},"shard":"2/4",…}   first line: what input this is
 *   {"t":"pin","line":12,"user_id":"u-1","job_id":"job-…"}      before the prep upload
 *   {"t":"prepared","line":12,"smile_job_id":"0000000042"}      after it
 *   {"t":"uploaded","line":12}                                   after the zip PUT
 *   {"t":"final","line":12,"done":true,"outcome":"approved","doc":{…report line…},"at":"…"}
 *   {"t":"resume","at":"…"}                                      each --resume
 */

export const JOURNAL_VERSION = 1;

export interface JournalHeader {
  t: 'run';
  v: number;
  input: { name: string; format: InputFormat } & InputFingerprint;
  shard: string | null;
  started_at: string;
  /** The account the run was for (for `smile report`); absent in journals of older versions. */
  partner_id?: string;
  environment?: string;
}

export type JournalRecord =
  | JournalHeader
  | { t: 'pin'; line: number; user_id: string; job_id: string }
  | { t: 'prepared'; line: number; smile_job_id: string }
  | { t: 'uploaded'; line: number }
  | { t: 'final'; line: number; done: boolean; outcome: BulkOutcome; doc: BulkRowDocument; at?: string }
  | { t: 'resume'; at: string };

/** How far a row got, as far as the journal knows. */
export type RowStep = 'pinned' | 'prepared' | 'uploaded';

/** What the journal knows of one row: compact, so 100,000 rows stay small in memory. */
export interface JournalEntry {
  userId: string;
  jobId: string;
  step: RowStep;
  smileJobId?: string;
  /** The last final record: where it is in the file (to read its document back) and whether it ended the row. */
  final?: { offset: number; length: number; done: boolean; outcome: BulkOutcome };
}

export interface JournalState {
  header: JournalHeader;
  /** Input line number → what the journal knows of that row. */
  entries: Map<number, JournalEntry>;
  /** The file does not end with a line break (a torn last write): the next append starts a new line. */
  tornTail: boolean;
  /** When each `--resume` started (ISO times), in order. */
  resumes: string[];
}

/** Default journal path: next to the input; per shard, so shards on one machine never share one. */
export function defaultJournalPath(inputPath: string, shard: string | undefined): string {
  return shard === undefined
    ? `${inputPath}.smile-journal.jsonl`
    : `${inputPath}.shard-${shard.replace('/', 'of')}.smile-journal.jsonl`;
}

/**
 * Default journal of rows piped on stdin: in the user's state directory, named from the stdin
 * fingerprint (its first 64 KiB) and the shard, so the same piped input finds it on `--resume`.
 */
export function stdinJournalPath(
  journalsDir: string,
  fingerprint: InputFingerprint,
  shard: string | undefined,
): string {
  const id = fingerprint.value.slice(0, 16);
  return join(
    journalsDir,
    shard === undefined
      ? `stdin-${id}.smile-journal.jsonl`
      : `stdin-${id}.shard-${shard.replace('/', 'of')}.smile-journal.jsonl`,
  );
}

export async function journalExists(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size > 0;
  } catch {
    return false;
  }
}

const STEP_ORDER: Record<RowStep, number> = { pinned: 0, prepared: 1, uploaded: 2 };

/**
 * Read a journal into its compact index, line by line (memory holds one entry per row, not the
 * records). A torn last line (power cut mid-write) is ignored; a damaged line elsewhere is an
 * error, since a lost pin could mean a second job for a row.
 */
export async function readJournal(path: string): Promise<JournalState> {
  const entries = new Map<number, JournalEntry>();
  const resumes: string[] = [];
  let header: JournalHeader | undefined;
  let offset = 0;
  let lineNumber = 0;
  let pending: Buffer | undefined;
  let damaged: number | undefined;
  const damagedError = (line: number) =>
    new InputError(`The journal ${path} is damaged at line ${line} (not JSON).`, {
      code: 'journal_damaged',
      hint: 'Move it aside and check its rows with `smile status`, or pass --journal NEW to start a separate run.',
    });
  const take = (bytes: Buffer, start: number) => {
    lineNumber++;
    const text = bytes.toString('utf8').trim();
    if (text === '') return;
    let record: JournalRecord;
    try {
      record = JSON.parse(text) as JournalRecord;
    } catch {
      if (damaged !== undefined) throw damagedError(damaged);
      damaged = lineNumber;
      return;
    }
    // An unreadable line is a torn write only when it is the last one, or when a resume followed it
    // (a resumed run ends the torn line and writes its resume record first); anything else is damage.
    if (damaged !== undefined) {
      if (record.t !== 'resume') throw damagedError(damaged);
      damaged = undefined;
    }
    if (!header) {
      if (record.t !== 'run')
        throw new InputError(`${path} is not a smile bulk journal (its first line is not a run record).`, {
          code: 'journal_damaged',
          hint: 'Pass --journal PATH to use another journal file.',
        });
      if (record.v !== JOURNAL_VERSION)
        throw new InputError(`${path} was written by a different version of smile (journal v${String(record.v)}).`, {
          code: 'journal_version',
          hint: 'Finish it with the smile version that started it, or pass --journal NEW.',
        });
      header = record;
      return;
    }
    if (record.t === 'resume' && typeof record.at === 'string') resumes.push(record.at);
    applyRecord(entries, record, start, bytes.length);
  };
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let data = pending ? Buffer.concat([pending, chunk]) : chunk;
    let base = offset - (pending?.length ?? 0);
    pending = undefined;
    let index: number;
    while ((index = data.indexOf(10)) !== -1) {
      take(data.subarray(0, index), base);
      base += index + 1;
      data = data.subarray(index + 1);
    }
    offset += chunk.length;
    if (data.length > 0) pending = Buffer.from(data);
  }
  const tornTail = pending !== undefined && pending.length > 0;
  if (tornTail && pending) {
    if (damaged !== undefined) throw damagedError(damaged);
    // A last line without its line break: use it when it is whole JSON, else it was torn by a crash
    // (the step it described never counted: its guard was never passed).
    try {
      const record = JSON.parse(pending.toString('utf8')) as JournalRecord;
      if (header) applyRecord(entries, record, offset - pending.length, pending.length);
    } catch {
      // torn write
    }
  }
  if (!header)
    throw new InputError(`${path} is not a smile bulk journal (it has no run record).`, {
      code: 'journal_damaged',
      hint: 'Pass --journal PATH to use another journal file.',
    });
  return { header, entries, tornTail, resumes };
}

function applyRecord(entries: Map<number, JournalEntry>, record: JournalRecord, offset: number, length: number): void {
  switch (record.t) {
    case 'pin': {
      const existing = entries.get(record.line);
      // A row keeps its first job_id: a later pin (a recovery round) names the same job.
      if (!existing) entries.set(record.line, { userId: record.user_id, jobId: record.job_id, step: 'pinned' });
      return;
    }
    case 'prepared': {
      const entry = entries.get(record.line);
      if (entry) {
        entry.smileJobId = record.smile_job_id;
        if (STEP_ORDER[entry.step] < STEP_ORDER.prepared) entry.step = 'prepared';
      }
      return;
    }
    case 'uploaded': {
      const entry = entries.get(record.line);
      if (entry) entry.step = 'uploaded';
      return;
    }
    case 'final': {
      const entry = entries.get(record.line);
      if (entry) entry.final = { offset, length, done: record.done, outcome: record.outcome };
      return;
    }
    default:
      return;
  }
}

/** Read back the result document of a row's final record (for the report of a resumed run). */
export function readFinalDocument(path: string, entry: JournalEntry): BulkRowDocument | undefined {
  return readFinalRecord(path, entry)?.doc;
}

/** Read back a row's final record (its document and, in newer journals, when it was written). */
export function readFinalRecord(path: string, entry: JournalEntry): Extract<JournalRecord, { t: 'final' }> | undefined {
  if (!entry.final) return undefined;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(entry.final.length);
    readSync(fd, buffer, 0, buffer.length, entry.final.offset);
    const record = JSON.parse(buffer.toString('utf8')) as JournalRecord;
    return record.t === 'final' ? record : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Does this journal belong to this input (and shard)? Returns the reason it does not, or undefined. */
export function journalMismatch(
  header: JournalHeader,
  fingerprint: InputFingerprint,
  shard: string | null,
): string | undefined {
  if (header.input.kind !== fingerprint.kind || header.input.value !== fingerprint.value) {
    return fingerprint.kind === 'sha256'
      ? 'the input file is not the same (its SHA-256 differs): it was changed or it is another file'
      : 'stdin does not start with the same bytes';
  }
  if ((header.shard ?? null) !== shard)
    return `it is the journal of ${header.shard ? `shard ${header.shard}` : 'the whole file'}, not ${shard ? `shard ${shard}` : 'the whole file'}`;
  return undefined;
}

/** Where journal records go; the bulk scheduler awaits each append before the step it guards. */
export interface JournalSink {
  append(record: JournalRecord): Promise<void>;
}

/**
 * Appends with group commit: records that arrive while a flush is running are written together
 * and made durable with one fdatasync, so 16 workers cost a few fsyncs, not one each. Every
 * `append` resolves only once its record is on disk. A failed write fails every later append:
 * the run stops rather than go on without its journal.
 */
export class JournalWriter implements JournalSink {
  readonly path: string;
  #handle: FileHandle;
  #queue: { text: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  #failed: SmileCliError | undefined;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /** Create a new journal with its header (the file must not exist), durable with its directory entry. */
  static async create(path: string, header: JournalHeader): Promise<JournalWriter> {
    let handle: FileHandle;
    try {
      // O_APPEND as well as O_EXCL: every write lands at the end, whoever else has the file open.
      handle = await open(path, 'ax', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A 0-byte journal (a crash or full disk right after creating it) holds no pin, so nothing
      // can be sent twice by starting it afresh; reading treats it as absent too.
      if (
        code === 'EEXIST' &&
        (await stat(path).then(
          (info) => info.size === 0,
          () => false,
        ))
      )
        return JournalWriter.#fresh(
          path,
          header,
          await open(path, 'a', 0o600).catch((reason: unknown) => Promise.reject(journalError(path, reason))),
        );
      if (code === 'EEXIST')
        throw new UsageError(`The journal ${path} already exists.`, {
          code: 'journal_exists',
          hint: 'Run again with --resume to finish that run, or pass --journal NEW to start a separate one.',
        });
      throw journalError(path, error);
    }
    return JournalWriter.#fresh(path, header, handle);
  }

  static async #fresh(path: string, header: JournalHeader, handle: FileHandle): Promise<JournalWriter> {
    const writer = new JournalWriter(path, handle);
    try {
      await writer.append(header);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    syncDirectory(dirname(path));
    return writer;
  }

  /** Append to an existing journal (`--resume`): its first record says so (after ending a torn last line). */
  static async append(path: string, options: { tornTail: boolean }): Promise<JournalWriter> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'a', 0o600);
    } catch (error) {
      throw journalError(path, error);
    }
    const writer = new JournalWriter(path, handle);
    // A torn last line is ended so the next record starts on a line of its own.
    const resume: JournalRecord = { t: 'resume', at: new Date().toISOString() };
    try {
      await writer.#write(`${options.tornTail ? '\n' : ''}${JSON.stringify(resume)}\n`);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw journalError(path, error);
    }
    return writer;
  }

  append(record: JournalRecord): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ text: `${JSON.stringify(record)}\n`, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0);
        try {
          await this.#write(batch.map((item) => item.text).join(''));
          for (const item of batch) item.resolve();
        } catch (error) {
          this.#failed ??= journalError(this.path, error);
          for (const item of [...batch, ...this.#queue.splice(0)]) item.reject(this.#failed);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  /**
   * Write every byte, then fdatasync. A write may take fewer bytes than asked without an error
   * (a nearly full disk); the rest is written in further calls until all of it is on disk or one
   * fails. Only then does the caller's step go on: a torn record is never acknowledged.
   */
  async #write(text: string): Promise<void> {
    await writeFully(this.#handle, Buffer.from(text, 'utf8'));
    await this.#handle.datasync();
  }

  /** Wait for every pending append, then close the file. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => undefined);
    await this.#handle.close().catch(() => undefined);
  }
}

function journalError(path: string, error: unknown): SmileCliError {
  if (error instanceof SmileCliError) return error;
  return new SmileCliError(
    `The journal ${path} could not be written: ${writeFailureReason(error)}.`,
    ExitCode.api,
    'journal_write',
    {
      hint: 'Free disk space or fix the permissions, then finish the run with --resume (no row is sent twice).',
      cause: error,
    },
  );
}
