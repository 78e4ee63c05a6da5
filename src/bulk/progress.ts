import type { BulkOutcome } from './row-result.js';
import type { BulkTally, FailureNote } from './summary.js';

/** What the dashboard draws, taken fresh a few times a second. */
export interface BulkSnapshot {
  /** Rows in this shard of the input, when known (a file; not stdin). */
  total: number | undefined;
  done: number;
  ok: number;
  retryable: number;
  failed: number;
  outcomes: Readonly<Record<BulkOutcome, number>>;
  fromJournal: number;
  elapsedMs: number;
  /** Rows finished per second in this run (recent window). */
  rate: number;
  /** Seconds left at the current rate, when it can be told. */
  etaSeconds: number | undefined;
  submitting: number;
  waiting: number;
  paused: boolean;
  retries: number;
  rateLimitPauses: number;
  recentFailures: readonly FailureNote[];
  environment: string;
  dryRun: boolean;
}

/** Rows/s over the last ~10 s (a ring of finish times), so the ETA follows the current pace. */
export class RateMeter {
  #times: number[] = [];
  readonly #windowMs: number;

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  mark(now: number): void {
    this.#times.push(now);
    if (this.#times.length > 4096) this.#times.splice(0, this.#times.length - 4096);
  }

  rate(now: number, startedAt: number): number {
    const from = Math.max(startedAt, now - this.#windowMs);
    while (this.#times.length > 0 && this.#times[0]! < from) this.#times.shift();
    const span = (now - from) / 1000;
    return span > 0.5 ? this.#times.length / span : 0;
  }
}

/** What a snapshot takes from the run itself; the counts come from the tally. */
export type RunFigures = Omit<
  BulkSnapshot,
  'done' | 'ok' | 'retryable' | 'failed' | 'outcomes' | 'fromJournal' | 'recentFailures' | 'etaSeconds'
>;

export function snapshotOf(tally: BulkTally, figures: RunFigures): BulkSnapshot {
  const done = tally.done;
  const left = figures.total === undefined ? undefined : Math.max(0, figures.total - done);
  return {
    ...figures,
    done,
    ok: tally.ok,
    retryable: tally.retryable,
    failed: tally.failed,
    outcomes: tally.outcomes,
    fromJournal: tally.fromJournal,
    recentFailures: tally.recentFailures,
    etaSeconds: left === undefined || figures.rate <= 0 ? undefined : left / figures.rate,
  };
}
