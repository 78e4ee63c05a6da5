import { deriveOutcome } from '../smile/outcome.js';
import type { Outcome } from '../smile/outcome.js';
import type { JobStatusInput, SmileClient } from '../smile/client.js';
import { sleep } from '../smile/retry.js';
import { ApiError } from '../errors.js';
import type { JobStatusResponse } from '../smile/types.js';
import { PollPlan, learnedWindow } from './schedule.js';
import type { PollTimes } from './schedule.js';

/**
 * When to poll is src/register/schedule.ts: a cold schedule (500 ms, then 10% of the time waited,
 * up to 4 s), or, once this server's job times are known, the first look just before results
 * usually arrive and dense looks after it, never more requests than the official SDK would send.
 * Retry-After (429) is honoured inside the client, and by the schedule when the client gives up.
 */
export interface WaitResult {
  status: JobStatusResponse;
  outcome: Outcome;
  polls: number;
  timedOut: boolean;
}

/**
 * Poll job_status until the outcome is no longer `pending` (approved, rejected, provisional,
 * error) or `timeoutMs` runs out; a timed-out wait returns the last status with outcome pending.
 * `immediate` asks once before the first delay (status --wait on an old job; bulk after its own
 * pacing): such a wait follows the cold schedule and teaches nothing. Otherwise the wait starts at
 * the upload: it reads and adds to `times` (none: the cold schedule, nothing kept).
 * `deadline` (epoch ms, replaces now + timeoutMs) also bounds each job_status request, attempts
 * and retries included: when it runs out inside a request the wait ends as timed out with the
 * last status, or, when no status came at all, with the client's `deadline` ApiError.
 * A 429 the client gave up on is waited out when it carries its Retry-After and the deadline allows.
 * `intervalMs` (--interval) replaces the schedule with fixed gaps, still at most 40 looks a minute
 * and after any Retry-After; such a wait neither reads nor adds to `times`.
 */
export async function pollJobUntilFinal(
  client: SmileClient,
  job: JobStatusInput,
  options: {
    timeoutMs: number;
    signal: AbortSignal;
    immediate?: boolean;
    deadline?: number;
    onPoll?: (status: JobStatusResponse, outcome: Outcome) => void;
    now?: () => number;
    times?: PollTimes;
    /** `--interval`: a look every this many ms instead of the schedule (nothing learned, nothing taught). */
    intervalMs?: number | undefined;
  },
): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const start = now();
  const bounded = options.deadline !== undefined;
  const deadline = options.deadline ?? start + options.timeoutMs;
  const fixedIntervalMs = options.intervalMs;
  const times = options.immediate || fixedIntervalMs !== undefined ? undefined : options.times;
  const plan = new PollPlan(times ? learnedWindow(await times.samples()) : undefined, { fixedIntervalMs });
  const pollsAt: number[] = [];
  let lastPendingAt = 0;
  let retryAfterMs: number | undefined;
  let last: JobStatusResponse | undefined;
  for (;;) {
    if (!(options.immediate && pollsAt.length === 0)) {
      const at = start + plan.nextPollAt(pollsAt, now() - start, retryAfterMs);
      const delay = Math.min(Math.max(0, at - now()), Math.max(0, deadline - now()));
      if (delay > 0 || last) await sleep(delay, options.signal);
    }
    retryAfterMs = undefined;
    const sentAt = now() - start;
    pollsAt.push(sentAt);
    try {
      last = await client.jobStatus(job, { signal: options.signal, ...(bounded ? { deadline } : {}) });
    } catch (error) {
      if (bounded && last && error instanceof ApiError && error.code === 'deadline')
        return { status: last, outcome: 'pending', polls: pollsAt.length - 1, timedOut: true };
      // Rate limited after the client's own retries: wait out its Retry-After if the deadline
      // allows (an error that does not say how long ends the wait, as before).
      if (error instanceof ApiError && error.status === 429 && error.retryAfterMs !== undefined) {
        const wait = error.retryAfterMs;
        if (now() + wait < deadline) {
          retryAfterMs = wait;
          continue;
        }
        if (last) return { status: last, outcome: 'pending', polls: pollsAt.length - 1, timedOut: true };
      }
      throw error;
    }
    const outcome = deriveOutcome(last);
    options.onPoll?.(last, outcome);
    const polls = pollsAt.length;
    if (outcome !== 'pending') {
      await times?.record({ pending: lastPendingAt, ready: sentAt });
      return { status: last, outcome, polls, timedOut: false };
    }
    lastPendingAt = sentAt;
    if (now() >= deadline) return { status: last, outcome, polls, timedOut: true };
  }
}
