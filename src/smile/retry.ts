/**
 * Retry policies with names (style.md): which failures are retried, how long to wait, and
 * what is never repeated blindly. Pure: the caller sleeps, so fake timers can drive it.
 */

export type RetryMode =
  /** Reads and idempotent writes (job_status, the zip PUT): transport errors, 408, 429, 5xx. */
  | 'idempotent'
  /** Prep upload: retried the same way, but the caller must recover a 2215 with `retry: true`. */
  | 'prep-upload'
  /** Never retried (e.g. one-shot probes). */
  | 'none';

export interface RetryPolicy {
  mode: RetryMode;
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'mode'> = { maxAttempts: 5, baseDelayMs: 300, maxDelayMs: 10_000 };

/** What went wrong with one attempt, as far as retrying cares. */
export type AttemptFailure =
  | {
      kind: 'transport';
      /** false when the request certainly never left (DNS, refused). */ mayHaveReachedServer: boolean;
    }
  | { kind: 'timeout' }
  | { kind: 'http'; status: number; retryAfterMs?: number };

export function isRetryableFailure(failure: AttemptFailure, mode: RetryMode): boolean {
  if (mode === 'none') return false;
  switch (failure.kind) {
    case 'transport':
    case 'timeout':
      return true;
    case 'http':
      return failure.status === 408 || failure.status === 429 || failure.status >= 500;
  }
}

/** True when a failed attempt may still have had its effect on the server (so a re-send may meet 2215). */
export function mayHaveTakenEffect(failure: AttemptFailure): boolean {
  switch (failure.kind) {
    case 'transport':
      return failure.mayHaveReachedServer;
    case 'timeout':
      return true;
    case 'http':
      // 429 and 408 are refusals before work; a 5xx may have died half-way through.
      return failure.status >= 500;
  }
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): exponential backoff with "full
 * jitter" between half and all of the step, never less than a server's Retry-After.
 */
export function backoffDelayMs(
  policy: Omit<RetryPolicy, 'mode'>,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = step / 2 + random() * (step / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

/** Parse `Retry-After` (seconds or an HTTP date) into milliseconds; undefined when absent or unusable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Math.round(Number(trimmed) * 1000), 10 * 60_000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), 10 * 60_000);
}

/** Sleep that ends early (rejecting with the signal's reason) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
