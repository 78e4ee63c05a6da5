/** In-memory users and jobs of the emulator, with an optional JSON state file (atomic writes). */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResultObject } from '../smile/types.js';
import { InputError } from '../errors.js';

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
  /** The stored selfie JPEG of a job, if one arrived. */
  selfieOf(jobId: string): Uint8Array | undefined;
}

interface StateFileV1 {
  version: 1;
  secret: string;
  counter: number;
  users: EmulatorUser[];
  jobs: EmulatorJob[];
  selfies: Record<string, string>;
  prepUploadCounts: Record<string, number>;
}

const pairKey = (userId: string, jobId: string): string => JSON.stringify([userId, jobId]);

export class EmulatorState implements EmulatorStateView {
  readonly jobs = new Map<string, EmulatorJob>();
  readonly users = new Map<string, EmulatorUser>();
  readonly requests: RequestLogEntry[] = [];
  readonly callbacks: CallbackDelivery[] = [];
  readonly refs = new Map<string, string>();
  readonly selfies = new Map<string, Uint8Array>();
  /** Secret behind the upload URLs' signatures; persisted so URLs survive a restart. */
  secret: string = randomBytes(32).toString('hex');
  private counter = 0;
  private readonly prepUploads = new Map<string, number>();
  private pendingSave: NodeJS.Immediate | null = null;
  private closed = false;
  /** The last error met while writing the state file in the background, if any. */
  saveError: unknown = null;

  constructor(private readonly stateFile?: string) {}

  /** Next Smile job id: a 10-digit zero-padded counter. */
  nextSmileJobId(): string {
    this.counter += 1;
    return String(this.counter).padStart(10, '0');
  }

  countPrepUpload(userId: string, jobId: string): void {
    const key = pairKey(userId, jobId);
    this.prepUploads.set(key, (this.prepUploads.get(key) ?? 0) + 1);
    this.changed();
  }

  prepUploadCount(userId: string, jobId: string): number {
    return this.prepUploads.get(pairKey(userId, jobId)) ?? 0;
  }

  selfieOf(jobId: string): Uint8Array | undefined {
    return this.selfies.get(jobId);
  }

  addJob(job: EmulatorJob): void {
    this.jobs.set(job.jobId, job);
    for (const ref of job.refIds) this.refs.set(ref, job.jobId);
    this.changed();
  }

  addRef(job: EmulatorJob, refId: string): void {
    job.refIds.push(refId);
    this.refs.set(refId, job.jobId);
    this.changed();
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
    }
    return user;
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

  /** Loads the state file if there is one; a missing file is a fresh start. */
  load(): void {
    if (!this.stateFile) return;
    let text: string;
    try {
      text = readFileSync(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new InputError(`Cannot read the emulator state file ${this.stateFile}.`, { cause: error });
    }
    let data: StateFileV1;
    try {
      data = JSON.parse(text) as StateFileV1;
    } catch (error) {
      throw new InputError(`The emulator state file ${this.stateFile} is not valid JSON.`, {
        hint: 'Delete it or pass another --state-file to start afresh.',
        cause: error,
      });
    }
    if (data === null || typeof data !== 'object' || data.version !== 1 || !Array.isArray(data.jobs) || !Array.isArray(data.users)) {
      throw new InputError(`The emulator state file ${this.stateFile} is not a state file this version understands.`, {
        hint: 'Delete it or pass another --state-file to start afresh.',
      });
    }
    this.secret = typeof data.secret === 'string' ? data.secret : this.secret;
    this.counter = Number.isInteger(data.counter) ? data.counter : 0;
    for (const user of data.users) this.users.set(user.userId, user);
    for (const job of data.jobs) this.addJob(job);
    for (const [jobId, b64] of Object.entries(data.selfies ?? {})) this.selfies.set(jobId, Buffer.from(b64, 'base64'));
    for (const [key, count] of Object.entries(data.prepUploadCounts ?? {})) this.prepUploads.set(key, count);
  }

  /** Marks the state as changed; the file is rewritten once per turn of the event loop, not per change. */
  changed(): void {
    if (!this.stateFile || this.pendingSave || this.closed) return;
    this.pendingSave = setImmediate(() => {
      this.pendingSave = null;
      try {
        this.saveNow();
        this.saveError = null;
      } catch (error) {
        // A failed background save must not take the server down; the next change tries again.
        this.saveError = error;
      }
    });
  }

  /** Writes the state file now (temp file + rename, so a crash never leaves half a file). */
  saveNow(): void {
    if (!this.stateFile) return;
    const data: StateFileV1 = {
      version: 1,
      secret: this.secret,
      counter: this.counter,
      users: [...this.users.values()],
      jobs: [...this.jobs.values()],
      selfies: Object.fromEntries([...this.selfies].map(([jobId, bytes]) => [jobId, Buffer.from(bytes).toString('base64')])),
      prepUploadCounts: Object.fromEntries(this.prepUploads),
    };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    renameSync(tmp, this.stateFile);
  }

  /** Final save; later changes are not written. */
  close(): void {
    if (this.closed) return;
    if (this.pendingSave) clearImmediate(this.pendingSave);
    this.pendingSave = null;
    this.closed = true;
    this.saveNow();
  }
}
