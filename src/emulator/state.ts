/**
 * Users and jobs of the emulator, in memory, with an optional state file: an append-only log of
 * changes (state-log.ts), compacted as it grows. Selfies are kept as files beside it, not in memory.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResultObject } from '../smile/types.js';
import { InputError } from '../errors.js';
import { writeFailureReason } from '../fs/durable.js';
import {
  readLogLines,
  sha256Of,
  STATE_FORMAT,
  STATE_VERSION,
  StateLog,
  stateFileKind,
  stateWriteError,
  type LineSink,
  type StateHeader,
} from './state-log.js';

export type JobStatus = 'awaiting_zip' | 'processing' | 'complete' | 'under_review';

/** What the emulator found in an uploaded zip (kept for tests and for the outcome). */
export interface ZipReceipt {
  receivedAt: string;
  /** Size of the PUT body in bytes. */
  bytes: number;
  /** Entry names, in zip order (directories included as listed). */
  entries: string[];
  /** Uncompressed size of each entry. */
  entrySizes: Record<string, number>;
  /** Parsed info.json, or null when missing or not JSON. */
  info: unknown;
  /** Where the selfie came from, when a usable one was found. */
  selfie: { source: 'file'; entry: string } | { source: 'base64' } | null;
  /** Liveness frames referenced by info.json (type 4 with a zip entry, or 6 with base64). */
  livenessFrames: number;
  /** Pixel size of each counted liveness frame, in order (null when its JPEG header is unreadable). */
  livenessFrameSizes?: ({ width: number; height: number } | null)[];
  /** Why the zip was refused, if it was: result code, text, and a human detail. */
  problem: { code: string; text: string; detail: string } | null;
}

export interface EmulatorJob {
  jobId: string;
  userId: string;
  jobType: number;
  smileJobId: string;
  /** Every ref_id issued for this job (a retried prep upload issues a new one). */
  refIds: string[];
  createdAt: string;
  /** `partner_params` with every value as a string, as echoed in results. */
  partnerParams: Record<string, string>;
  sandboxResult: string;
  callbackUrl: string | null;
  allowNewEnroll: boolean;
  useEnrolledImage: boolean;
  /**
   * The location of the prep upload's `geolocation` metadatum (Android's shape plus its timestamp),
   * or null without a well-formed one. Absent on jobs from state files written before it existed.
   */
  geolocation?: EmulatorGeolocation | null;
  /** Each accepted prep-upload body for this job, as received, without `signature`. */
  prepUploads: Record<string, unknown>[];
  status: JobStatus;
  zip: ZipReceipt | null;
  /** PUTs received for this job (a PUT after the first is accepted and ignored, like an S3 overwrite that nobody reads). */
  puts: number;
  /** Epoch ms when the machine result is due (set by the PUT). */
  readyAt: number | null;
  /** Epoch ms when the human-review result is due (provisional jobs). */
  reviewAt: number | null;
  jobComplete: boolean;
  jobSuccess: boolean;
  /** Latest result; null until processing finishes. */
  result: ResultObject | null;
  /** Every result issued for this job, oldest first (machine, then human review). */
  results: ResultObject[];
}

export interface EmulatorGeolocation {
  latitude: number;
  longitude: number;
  accuracy: string;
  source: string;
  timestamp: string;
}

export interface EmulatorUser {
  userId: string;
  enrolled: boolean;
  /** Number of approved JT4 jobs for this user. */
  enrollments: number;
  enrolledJobIds: string[];
  createdAt: string;
}

export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** HTTP status sent; 0 when the connection was dropped without an answer. */
  status: number;
  jobId?: string;
  userId?: string;
  /** The fault injected into this request, if any. */
  fault?: 'drop' | 'drop_after_work' | 'rate_limit' | 'error';
  at: string;
}

export interface CallbackDelivery {
  url: string;
  jobId: string;
  resultCode: string;
  /** Attempts made so far. */
  attempts: number;
  /** Last HTTP status received; 0 when no answer (network error). */
  status: number;
  ok: boolean;
  /** True once no further attempt will be made. */
  done: boolean;
  error?: string;
  /** The JSON body posted (result + timestamp + signature). */
  payload: Record<string, unknown>;
}

/** Read-only view of the emulator's state, for tests. */
export interface EmulatorStateView {
  readonly jobs: ReadonlyMap<string, Readonly<EmulatorJob>>;
  readonly users: ReadonlyMap<string, Readonly<EmulatorUser>>;
  readonly requests: readonly Readonly<RequestLogEntry>[];
  readonly callbacks: readonly Readonly<CallbackDelivery>[];
  /** Prep uploads received for (user_id, job_id), whatever they were answered (errors, faults included). */
  prepUploadCount(userId: string, jobId: string): number;
  /** The stored selfie JPEG of a job, if one arrived (read from its file with a state file). */
  selfieOf(jobId: string): Uint8Array | undefined;
  /** Selfie images held in memory right now: 0 with a state file once changes are saved; without one, each distinct image once. */
  selfiesInMemory(): number;
  /** Why the state file could not be saved last time, or null when all is saved (or there is no state file). */
  readonly saveFailure: string | null;
}

/** Where a job's selfie is: its SHA-256 (the file name beside the state file, or the key in memory) and size. */
export interface SelfieRef {
  sha256: string;
  bytes: number;
}

/** The records of the log after its header line; the last record about a thing wins. */
type StateRecord =
  | { t: 'meta'; counter: number }
  | { t: 'user'; v: EmulatorUser }
  | { t: 'job'; v: EmulatorJob }
  | { t: 'selfie'; job: string; sha256: string; bytes: number }
  | { t: 'prep'; k: string; n: number };

/** The state file format before the log (a whole JSON document rewritten on every change); read once to migrate. */
interface StateFileV1 {
  version: 1;
  secret: string;
  counter: number;
  users: EmulatorUser[];
  jobs: EmulatorJob[];
  selfies?: Record<string, string>;
  prepUploadCounts?: Record<string, number>;
}

/** How long after a failed save the emulator tries again by itself (requests also try at once). */
const SAVE_RETRY_MS = 1000;
/** Inline (base64) images in info.json longer than this are not kept in the job's receipt. */
const MAX_KEPT_INLINE_IMAGE_CHARS = 256;

const pairKey = (userId: string, jobId: string): string => JSON.stringify([userId, jobId]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** info.json without the base64 image payloads (type 2 selfie, type 6 liveness): their bytes are not kept per job. */
export function withoutInlineImages(info: unknown): unknown {
  if (!isObject(info) || !Array.isArray(info.images)) return info;
  const images = info.images.map((image: unknown) => {
    if (!isObject(image) || typeof image.image !== 'string' || image.image.length <= MAX_KEPT_INLINE_IMAGE_CHARS)
      return image;
    return { ...image, image: `[base64 image, ${image.image.length} characters, not kept]` };
  });
  return { ...info, images };
}

export interface EmulatorStateOptions {
  /** Where notices about the state file go (failed saves, migration, a dropped torn line). */
  warn?: (message: string) => void;
  /** Log compaction policy (tests); default: past 4 × the live state and at least 256 KiB. */
  compaction?: { factor: number; minBytes: number };
  /** How many request-log entries and callback deliveries are kept (the most recent); default 10,000. */
  historyLimit?: number;
}

/** A long-running emulator keeps this many recent requests and callbacks, not all of them. */
export const DEFAULT_HISTORY_LIMIT = 10_000;

/** Append to a bounded history: past the limit the oldest go, in batches so that trimming stays cheap. */
function appendBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit + Math.max(1, Math.floor(limit / 4))) list.splice(0, list.length - limit);
}

export class EmulatorState implements EmulatorStateView {
  readonly jobs = new Map<string, EmulatorJob>();
  readonly users = new Map<string, EmulatorUser>();
  readonly requests: RequestLogEntry[] = [];
  readonly callbacks: CallbackDelivery[] = [];
  readonly refs = new Map<string, string>();
  /** Which selfie each job has; the bytes are in `imagesInMemory` (no state file) or in files beside the state file. */
  readonly selfies = new Map<string, SelfieRef>();
  /** Secret behind the upload URLs' signatures; persisted so URLs survive a restart. */
  secret: string = randomBytes(32).toString('hex');
  private counter = 0;
  private readonly prepUploads = new Map<string, number>();
  /** Without a state file: image bytes by SHA-256 (identical selfies are held once). */
  private readonly imagesInMemory = new Map<string, Uint8Array>();
  /** With a state file: image bytes not yet in their file (until the next save). */
  private readonly unsavedImages = new Map<string, Uint8Array>();
  private readonly log: StateLog | undefined;
  private readonly warn: (message: string) => void;
  private readonly historyLimit: number;
  private createdAt = new Date().toISOString();

  // What changed since the last save.
  private readonly dirtyJobs = new Set<string>();
  private readonly dirtyUsers = new Set<string>();
  private readonly dirtyPreps = new Set<string>();
  private readonly dirtySelfies = new Set<string>();
  private dirtyMeta = false;

  private pendingSave: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The last error met while saving, until a save succeeds. */
  saveError: unknown = null;

  constructor(stateFile?: string, options: EmulatorStateOptions = {}) {
    this.log = stateFile ? new StateLog(stateFile, options.compaction) : undefined;
    this.warn = options.warn ?? ((message) => process.stderr.write(`${message}\n`));
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  }

  /** Record a request (the most recent historyLimit are kept). */
  logRequest(entry: RequestLogEntry): void {
    appendBounded(this.requests, entry, this.historyLimit);
  }

  /** Record a callback delivery (the most recent historyLimit are kept). */
  logCallback(delivery: CallbackDelivery): void {
    appendBounded(this.callbacks, delivery, this.historyLimit);
  }

  get stateFile(): string | undefined {
    return this.log?.file;
  }

  get saveFailure(): string | null {
    return this.saveError === null ? null : writeFailureReason(this.saveError);
  }

  /** Next Smile job id: a 10-digit zero-padded counter. */
  nextSmileJobId(): string {
    this.counter += 1;
    this.dirtyMeta = true;
    this.changed();
    return String(this.counter).padStart(10, '0');
  }

  countPrepUpload(userId: string, jobId: string): void {
    const key = pairKey(userId, jobId);
    this.prepUploads.set(key, (this.prepUploads.get(key) ?? 0) + 1);
    this.dirtyPreps.add(key);
    this.changed();
  }

  prepUploadCount(userId: string, jobId: string): number {
    return this.prepUploads.get(pairKey(userId, jobId)) ?? 0;
  }

  /** Keeps a job's selfie: in a file beside the state file (written at the next save), or in memory without one. */
  setSelfie(jobId: string, bytes: Uint8Array): void {
    const sha256 = sha256Of(bytes);
    this.selfies.set(jobId, { sha256, bytes: bytes.length });
    if (this.log) {
      this.unsavedImages.set(sha256, Uint8Array.from(bytes));
      this.dirtySelfies.add(jobId);
      this.changed();
    } else if (!this.imagesInMemory.has(sha256)) this.imagesInMemory.set(sha256, Uint8Array.from(bytes));
  }

  selfieOf(jobId: string): Uint8Array | undefined {
    const ref = this.selfies.get(jobId);
    if (!ref) return undefined;
    return this.imagesInMemory.get(ref.sha256) ?? this.unsavedImages.get(ref.sha256) ?? this.log?.readBlob(ref.sha256);
  }

  selfiesInMemory(): number {
    return this.imagesInMemory.size + this.unsavedImages.size;
  }

  addJob(job: EmulatorJob): void {
    this.jobs.set(job.jobId, job);
    for (const ref of job.refIds) this.refs.set(ref, job.jobId);
    this.changed(job);
  }

  addRef(job: EmulatorJob, refId: string): void {
    job.refIds.push(refId);
    this.refs.set(refId, job.jobId);
    this.changed(job);
  }

  jobByRef(refId: string): EmulatorJob | undefined {
    const jobId = this.refs.get(refId);
    return jobId === undefined ? undefined : this.jobs.get(jobId);
  }

  user(userId: string): EmulatorUser {
    let user = this.users.get(userId);
    if (!user) {
      user = { userId, enrolled: false, enrollments: 0, enrolledJobIds: [], createdAt: new Date().toISOString() };
      this.users.set(userId, user);
      this.userChanged(user);
    }
    return user;
  }

  /** Marks a user changed in place (saved at the next save). */
  userChanged(user: EmulatorUser): void {
    this.dirtyUsers.add(user.userId);
    this.changed();
  }

  isEnrolled(userId: string): boolean {
    return this.users.get(userId)?.enrolled === true;
  }

  /** Every result issued for a user's jobs, newest first. */
  historyOf(userId: string): ResultObject[] {
    const all: ResultObject[] = [];
    for (const job of this.jobs.values()) if (job.userId === userId) all.push(...job.results);
    return all.reverse();
  }

  /**
   * Loads the state file if there is one (a missing or empty file is a fresh start), migrates the
   * old whole-file format, and compacts the log; throws when it cannot be read or written.
   */
  load(): void {
    const log = this.log;
    if (!log) return;
    const file = log.file;
    const kind = stateFileKind(file);
    if (kind === 'log') this.loadLog(file);
    else if (kind === 'whole-file') this.migrateWholeFile(file);
    else if (kind === 'unknown') {
      let detail = 'is not a state file this version understands';
      try {
        JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        detail = 'is not valid JSON';
      }
      throw new InputError(`The emulator state file ${file} ${detail}.`, {
        hint: 'Delete it or pass another --state-file to start afresh.',
      });
    }
    // A fresh log, or the loaded one rewritten without its history: its size is then the live state's.
    try {
      mkdirSync(dirname(file), { recursive: true });
      log.compact(this.header(), (line) => this.writeSnapshot(line));
    } catch (error) {
      throw stateWriteError(file, error);
    }
    this.clearDirty();
    log.removeStaleTemps();
    log.removeUnreferencedBlobs(new Set([...this.selfies.values()].map((ref) => ref.sha256)));
  }

  private header(): StateHeader {
    return {
      t: 'header',
      format: STATE_FORMAT,
      version: STATE_VERSION,
      secret: this.secret,
      createdAt: this.createdAt,
    };
  }

  private loadLog(file: string): void {
    const damaged = (lineNo: number, what = 'not a state record'): InputError =>
      new InputError(`The emulator state file ${file} is damaged at line ${lineNo} (${what}).`, {
        hint: 'Move it aside, or pass another --state-file to start afresh.',
      });
    let sawHeader = false;
    const torn = readLogLines(file, (line, lineNo) => {
      if (line.trim() === '') return;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        throw damaged(lineNo, 'not JSON');
      }
      if (!isObject(record)) throw damaged(lineNo);
      if (!sawHeader) {
        if (record.t !== 'header' || record.format !== STATE_FORMAT) throw damaged(lineNo, 'no header');
        if (record.version !== STATE_VERSION) {
          throw new InputError(
            `The emulator state file ${file} was written by another version of smile (state v${String(record.version)}).`,
            {
              hint: 'Use that version, or pass another --state-file to start afresh.',
            },
          );
        }
        if (typeof record.secret === 'string') this.secret = record.secret;
        if (typeof record.createdAt === 'string') this.createdAt = record.createdAt;
        sawHeader = true;
        return;
      }
      if (!this.apply(record as StateRecord)) throw damaged(lineNo);
    });
    if (torn !== undefined) {
      this.warn(
        `Emulator state file ${file}: ignored an incomplete last line (a write cut short; it was never acknowledged).`,
      );
    }
  }

  /** Applies one log record; false when it is not one this version knows. */
  private apply(record: StateRecord): boolean {
    switch (record.t) {
      case 'meta':
        if (!Number.isInteger(record.counter)) return false;
        this.counter = record.counter;
        return true;
      case 'user':
        if (!isObject(record.v) || typeof record.v.userId !== 'string') return false;
        this.users.set(record.v.userId, record.v);
        return true;
      case 'job':
        if (!isObject(record.v) || typeof record.v.jobId !== 'string' || !Array.isArray(record.v.refIds)) return false;
        this.jobs.set(record.v.jobId, record.v);
        for (const ref of record.v.refIds) this.refs.set(ref, record.v.jobId);
        return true;
      case 'selfie':
        if (
          typeof record.job !== 'string' ||
          typeof record.sha256 !== 'string' ||
          !/^[0-9a-f]{64}$/.test(record.sha256)
        )
          return false;
        this.selfies.set(record.job, { sha256: record.sha256, bytes: Number(record.bytes) || 0 });
        return true;
      case 'prep':
        if (typeof record.k !== 'string' || !Number.isInteger(record.n)) return false;
        this.prepUploads.set(record.k, record.n);
        return true;
      default:
        return false;
    }
  }

  /** Reads the version-1 whole-file format once; the caller then writes it out as a log. */
  private migrateWholeFile(file: string): void {
    let data: StateFileV1;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as StateFileV1;
    } catch (error) {
      const tooBig = error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG';
      throw new InputError(
        tooBig
          ? `The emulator state file ${file} is in the old whole-file format and too large (${statSync(file).size} bytes) to migrate.`
          : `The emulator state file ${file} is in the old whole-file format but is not valid JSON.`,
        { hint: 'Delete it or pass another --state-file to start afresh.', cause: error },
      );
    }
    if (!isObject(data) || data.version !== 1 || !Array.isArray(data.jobs) || !Array.isArray(data.users)) {
      throw new InputError(`The emulator state file ${file} is not a state file this version understands.`, {
        hint: 'Delete it or pass another --state-file to start afresh.',
      });
    }
    const log = this.log;
    if (!log) return;
    if (typeof data.secret === 'string') this.secret = data.secret;
    this.counter = Number.isInteger(data.counter) ? data.counter : 0;
    for (const user of data.users) this.users.set(user.userId, user);
    for (const job of data.jobs) {
      if (job.zip) job.zip.info = withoutInlineImages(job.zip.info);
      this.jobs.set(job.jobId, job);
      for (const ref of job.refIds) this.refs.set(ref, job.jobId);
    }
    let images = 0;
    for (const [jobId, b64] of Object.entries(data.selfies ?? {})) {
      const bytes = Buffer.from(b64, 'base64');
      const sha256 = sha256Of(bytes);
      try {
        log.writeBlob(sha256, bytes);
      } catch (error) {
        throw stateWriteError(log.blobPath(sha256), error);
      }
      this.selfies.set(jobId, { sha256, bytes: bytes.length });
      images += 1;
    }
    for (const [key, count] of Object.entries(data.prepUploadCounts ?? {})) this.prepUploads.set(key, count);
    this.warn(
      `Migrated the emulator state file ${file} from the old whole-file format to an append-only log: ` +
        `${this.users.size} users, ${this.jobs.size} jobs, ${images} selfies (now files in ${log.blobDir}).`,
    );
  }

  /** Every live record, for a compacted log. */
  private writeSnapshot(line: LineSink): void {
    line({ t: 'meta', counter: this.counter });
    for (const user of this.users.values()) line({ t: 'user', v: user });
    for (const job of this.jobs.values()) line({ t: 'job', v: job });
    for (const [job, ref] of this.selfies) line({ t: 'selfie', job, sha256: ref.sha256, bytes: ref.bytes });
    for (const [k, n] of this.prepUploads) line({ t: 'prep', k, n });
  }

  private hasUnsaved(): boolean {
    return (
      this.dirtyMeta ||
      this.dirtyJobs.size > 0 ||
      this.dirtyUsers.size > 0 ||
      this.dirtyPreps.size > 0 ||
      this.dirtySelfies.size > 0
    );
  }

  private clearDirty(): void {
    this.dirtyMeta = false;
    this.dirtyJobs.clear();
    this.dirtyUsers.clear();
    this.dirtyPreps.clear();
    this.dirtySelfies.clear();
  }

  /**
   * Marks the state changed (a job changed in place, when given) and saves it at the end of this turn
   * of the event loop; a request's answer saves it at once (`save`) before it goes out.
   */
  changed(job?: EmulatorJob): void {
    if (job) this.dirtyJobs.add(job.jobId);
    if (!this.log || this.pendingSave || this.closed) return;
    this.pendingSave = setImmediate(() => {
      this.pendingSave = null;
      this.save();
    });
  }

  /**
   * Appends every unsaved change to the log, durable when this returns null. On failure the
   * changes stay pending (tried again on the next save and every second), the failure is said once
   * on the warn channel, and the error is returned: a request must not be acknowledged then.
   */
  save(): Error | null {
    const log = this.log;
    if (!log || this.closed || !this.hasUnsaved()) return null;
    try {
      for (const jobId of this.dirtySelfies) {
        const ref = this.selfies.get(jobId);
        const bytes = ref && this.unsavedImages.get(ref.sha256);
        if (ref && bytes) log.writeBlob(ref.sha256, bytes);
      }
      log.append((line) => {
        if (this.dirtyMeta) line({ t: 'meta', counter: this.counter });
        for (const id of this.dirtyUsers) {
          const user = this.users.get(id);
          if (user) line({ t: 'user', v: user });
        }
        for (const id of this.dirtyJobs) {
          const job = this.jobs.get(id);
          if (job) line({ t: 'job', v: job });
        }
        for (const job of this.dirtySelfies) {
          const ref = this.selfies.get(job);
          if (ref) line({ t: 'selfie', job, sha256: ref.sha256, bytes: ref.bytes });
        }
        for (const k of this.dirtyPreps) line({ t: 'prep', k, n: this.prepUploads.get(k) ?? 0 });
      });
    } catch (error) {
      return this.saveFailed(log.file, error);
    }
    this.clearDirty();
    this.unsavedImages.clear();
    if (this.saveError !== null) {
      this.saveError = null;
      this.warn(`The emulator state file ${log.file} is saved again: every change is on disk.`);
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (log.wantsCompaction()) {
      try {
        log.compact(this.header(), (line) => this.writeSnapshot(line));
      } catch (error) {
        // Nothing is lost: the log as it is holds every change. It is compacted again when it has doubled.
        this.warn(
          `The emulator could not compact its state file ${log.file} (${writeFailureReason(error)}); it keeps growing until it can.`,
        );
      }
    }
    return null;
  }

  private saveFailed(file: string, error: unknown): Error {
    const first = this.saveError === null;
    this.saveError = error;
    if (first) {
      this.warn(
        `The emulator could not save its state file ${file}: ${writeFailureReason(error)}. ` +
          'Requests that need a save are answered 500 until it can; free disk space (or fix the permissions) and it catches up by itself.',
      );
    }
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.save();
      }, SAVE_RETRY_MS);
      this.retryTimer.unref();
    }
    return new Error(`the emulator could not save its state file ${file}: ${writeFailureReason(error)}`, {
      cause: error,
    });
  }

  /** Final save; later changes are not written. Throws when unsaved changes could not be written. */
  close(): void {
    if (this.closed) return;
    if (this.pendingSave) clearImmediate(this.pendingSave);
    this.pendingSave = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const failed = this.save();
    this.closed = true;
    this.log?.close();
    if (failed && this.log) throw stateWriteError(this.log.file, this.saveError);
  }
}
