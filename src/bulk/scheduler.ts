import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { CancelledError, isSmileCliError } from '../errors.js';
import type { SmileCliError } from '../errors.js';
import { backoffDelayMs, sleep } from '../smile/retry.js';
import { DEFAULT_MIN_INTERVAL_MS, MemoryPollTimes, learnedFirstPollMs, learnedWindow } from '../register/schedule.js';
import type { JournalEntry } from './journal.js';
import { failedRow, isFatalRowError, submitRow, waitRow } from './register-row.js';
import type { RowDeps, RowOptions, RowState } from './register-row.js';
import type { RowResult } from './row-result.js';
import type { BulkRow } from './input.js';

/** A FIFO counting semaphore whose waits end (CancelledError) when the run is aborted. */
export class Semaphore {
  #free: number;
  #waiters: {
    resolve: () => void;
    reject: (error: unknown) => void;
    signal: AbortSignal | undefined;
    onAbort: () => void;
  }[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  get free(): number {
    return this.#free;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#waiters.indexOf(waiter);
          if (index !== -1) this.#waiters.splice(index, 1);
          reject(new CancelledError());
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve();
    } else {
      this.#free++;
    }
  }
}

export interface SchedulerOptions extends RowOptions {
  /** Rows being submitted at once (`--concurrency`): each holds a worker from its selfie check to its PUT. */
  concurrency: number;
  /** Rows in progress at once, waiting included: bounds memory however slow results are. */
  maxInProgress?: number;
  /** Extra rounds for a row that failed with a retryable error after the client's own retries. */
  recoveryRounds?: number;
  /** Base delay before such a round (doubled each round, with jitter). */
  recoveryDelayMs?: number;
}

export interface SchedulerDeps extends RowDeps {
  newJobId: () => string;
  /** Every finished row, once. */
  onResult: (result: RowResult) => void;
  random?: () => number;
}

/**
 * When to take the first look at an uploaded job: the schedule register learns across runs
 * (src/register/schedule.ts), learned here in memory from this run's jobs. For one person waiting
 * the poll schedule looks early and often; for a bulk run what matters is requests and CPU per job.
 * After a few jobs the pacer's first look goes where results arrive (90% into the window between
 * the latest first look that found a job pending and the earliest result seen, as register's
 * single look does), so most jobs are asked about once; if a job is not
 * ready, the cold schedule takes over. A server whose speed changes is forgotten, as in register.
 */
export class PollPacer {
  static readonly MIN_SAMPLES = 8;
  static readonly MAX_DELAY_MS = 30_000;
  readonly #times = new MemoryPollTimes();
  #samples = 0;

  /**
   * A job's result was seen `timeToResultMs` after its upload, the first look having gone at
   * `firstLookMs` (0: at once). A result seen a cold interval or more after the first look means
   * that look found the job pending.
   */
  observe(timeToResultMs: number, firstLookMs = 0): void {
    const missed = firstLookMs > 0 && timeToResultMs - firstLookMs >= DEFAULT_MIN_INTERVAL_MS;
    this.#times.observe({ pending: missed ? firstLookMs : 0, ready: timeToResultMs });
    this.#samples++;
  }

  firstDelayMs(): number {
    const window = learnedWindow(this.#times.current);
    if (!window || this.#samples < PollPacer.MIN_SAMPLES) return 0;
    return Math.min(PollPacer.MAX_DELAY_MS, learnedFirstPollMs(window));
  }
}

export const DEFAULT_RECOVERY_ROUNDS = 2;
export const DEFAULT_RECOVERY_DELAY_MS = 2000;

/**
 * Runs rows with `--concurrency` workers. Submission and waiting are decoupled: a worker checks,
 * pins, prep-uploads and PUTs a row, then hands the job to the poller and takes the next row, so
 * with `--wait` throughput is bounded by submission, not by processing time. A row that fails
 * with a retryable error after the client's retries gets recovery rounds (job_status first, same
 * job_id: never a second job). Bad credentials, a journal that cannot be written, or a bug stop
 * the run (fatal: that error is what `add`/`drain` throw, never an interruption, though the rows
 * in flight see the stop as an abort); Ctrl-C aborts it with every journal write flushed.
 */
export class BulkScheduler {
  readonly #options: Required<Pick<SchedulerOptions, 'maxInProgress' | 'recoveryRounds' | 'recoveryDelayMs'>> &
    SchedulerOptions;
  readonly #deps: SchedulerDeps;
  readonly #workers: Semaphore;
  readonly #inProgress: Semaphore;
  readonly #tasks = new Set<Promise<void>>();
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  #fatal: unknown;
  readonly #pacer = new PollPacer();
  #submitting = 0;
  #waiting = 0;
  #interrupted = 0;

  constructor(options: SchedulerOptions, deps: SchedulerDeps) {
    const concurrency = Math.max(1, Math.floor(options.concurrency));
    this.#options = {
      ...options,
      concurrency,
      maxInProgress: Math.max(concurrency, options.maxInProgress ?? Math.max(1024, concurrency * 64)),
      recoveryRounds: options.recoveryRounds ?? DEFAULT_RECOVERY_ROUNDS,
      recoveryDelayMs: options.recoveryDelayMs ?? DEFAULT_RECOVERY_DELAY_MS,
    };
    this.#signal = AbortSignal.any([deps.signal, this.#controller.signal]);
    // Every waiting row and sleeping retry listens to this one signal: thousands is expected.
    setMaxListeners(0, this.#signal);
    this.#deps = { ...deps, signal: this.#signal };
    this.#workers = new Semaphore(concurrency);
    this.#inProgress = new Semaphore(this.#options.maxInProgress);
  }

  /** Rows between their selfie check and their PUT. */
  get submitting(): number {
    return this.#submitting;
  }

  /** Uploaded rows whose result is being polled. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Rows that were in flight when the run was interrupted (the journal knows where each got to). */
  get interrupted(): number {
    return this.#interrupted;
  }

  get aborted(): boolean {
    return this.#signal.aborted;
  }

  /** The first error that stopped the run (bad credentials or signatures, a journal or report that cannot be written, a bug); undefined otherwise. */
  get fatal(): unknown {
    return this.#fatal;
  }

  /**
   * Queue a row; resolves once a worker has taken it (backpressure for the reader). `prior` is
   * what the journal knows of it (resume): its job_id and how far it got.
   */
  async add(row: BulkRow, prior: JournalEntry | undefined): Promise<void> {
    this.#throwIfFatal();
    try {
      await this.#inProgress.acquire(this.#signal);
    } catch (error) {
      // Our own stop (a fatal error) ends these waits too: report that error, not an interruption.
      this.#throwIfFatal();
      throw error;
    }
    try {
      await this.#workers.acquire(this.#signal);
    } catch (error) {
      this.#inProgress.release();
      this.#throwIfFatal();
      throw error;
    }
    const state: RowState = prior
      ? { jobId: prior.jobId, step: prior.step, smileJobId: prior.smileJobId }
      : { jobId: row.jobId ?? this.#deps.newJobId(), step: 'new', smileJobId: undefined };
    const task = this.#runRow(row, state).finally(() => {
      this.#tasks.delete(task);
      this.#inProgress.release();
    });
    this.#tasks.add(task);
  }

  /** Wait for every queued row (waits and recovery rounds included); throws the fatal error if one stopped the run. */
  async drain(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
    this.#throwIfFatal();
  }

  #throwIfFatal(): void {
    if (this.#fatal !== undefined) throw this.#fatal;
  }

  async #runRow(row: BulkRow, state: RowState): Promise<void> {
    let holdsWorker = true;
    this.#submitting++;
    const releaseWorker = () => {
      if (!holdsWorker) return;
      holdsWorker = false;
      this.#submitting--;
      this.#workers.release();
    };
    const options = this.#options;
    const deps = this.#deps;
    let warnings: string[] = [];
    try {
      for (let round = 0; ; round++) {
        try {
          if (!holdsWorker) {
            await this.#workers.acquire(this.#signal);
            holdsWorker = true;
            this.#submitting++;
          }
          const submitted = await submitRow(row, state, options, deps);
          warnings = submitted.warnings.length > 0 ? submitted.warnings : warnings;
          releaseWorker();
          let result = submitted.result;
          if (!result) {
            this.#waiting++;
            const uploadedAt = performance.now();
            try {
              const immediate = submitted.wait?.immediate ?? false;
              const firstLookMs = immediate ? 0 : this.#pacer.firstDelayMs();
              const waited = await waitRow(row, state, { immediate, delayMs: firstLookMs }, options, deps, warnings);
              if (!immediate && !waited.timedOut) this.#pacer.observe(performance.now() - uploadedAt, firstLookMs);
              const { timedOut: _timedOut, ...rest } = waited;
              result = rest;
            } finally {
              this.#waiting--;
            }
          }
          await this.#finish(result, state);
          return;
        } catch (error) {
          releaseWorker();
          if (error instanceof CancelledError || this.#signal.aborted) {
            this.#interrupted++;
            return;
          }
          if (isFatalRowError(error)) {
            this.#stop(error);
            return;
          }
          const failed = failedRow(row, state, error as SmileCliError, options, deps.environment, warnings);
          if (failed.status === 'retryable' && round < options.recoveryRounds) {
            const delay = backoffDelayMs(
              { maxAttempts: options.recoveryRounds + 1, baseDelayMs: options.recoveryDelayMs, maxDelayMs: 30_000 },
              round + 1,
              undefined,
              this.#deps.random,
            );
            try {
              await sleep(delay, this.#signal);
            } catch {
              this.#interrupted++;
              return;
            }
            continue;
          }
          await this.#finish(failed, state);
          return;
        }
      }
    } catch (error) {
      // A journal failure while finishing (or a bug) stops the run.
      if (!(error instanceof CancelledError) && !this.#signal.aborted) this.#stop(error);
      else this.#interrupted++;
    } finally {
      releaseWorker();
    }
  }

  /** Journal the row's final result (if it was ever pinned), then report it. */
  async #finish(result: RowResult, state: RowState): Promise<void> {
    if (state.step !== 'new') {
      await this.#deps.journal.append({
        t: 'final',
        line: result.line,
        done: result.status !== 'retryable',
        outcome: result.outcome,
        doc: result.doc,
        at: new Date().toISOString(),
      });
    }
    this.#deps.onResult(result);
  }

  /** Stop the run because of an error found outside the rows (a report that cannot be written, a journal that does not match): rows in flight see an abort. */
  stop(error: unknown): void {
    this.#stop(error);
  }

  #stop(error: unknown): void {
    if (this.#fatal === undefined) {
      this.#fatal = error;
      this.#controller.abort(error);
    }
  }
}

/** True for the error thrown by `add`/`drain` when the user interrupted the run. */
export function isInterruption(error: unknown): boolean {
  return error instanceof CancelledError || (isSmileCliError(error) && error.code === 'interrupted');
}
