import { deriveOutcome } from '../smile/outcome.js';
import type { Outcome } from '../smile/outcome.js';
import type { JobStatusInput, SmileClient } from '../smile/client.js';
import { sleep } from '../smile/retry.js';
import { ApiError } from '../errors.js';
import type { JobStatusResponse } from '../smile/types.js';

/**
 * The poll schedule: first look 250 ms after the upload, then ×1.5 per poll up to a 4 s cap.
 * A SmartSelfie job usually takes seconds, so the early polls return a result within ~25% of
 * the processing time (1 s processing → result at ~1.2 s) while a long wait costs one request
 * per 4 s at most: ~35 requests over the default 120 s, fewer than the Node SDK's fixed 2 s/4 s
 * sleeps spend on a minute. Retry-After (429) is honoured inside the client.
 */
export const POLL_FIRST_MS = 250;
export const POLL_FACTOR = 1.5;
export const POLL_CAP_MS = 4000;

export function pollDelayMs(pollIndex: number): number {
  return Math.min(POLL_CAP_MS, Math.round(POLL_FIRST_MS * POLL_FACTOR ** pollIndex));
}

export interface WaitResult {
  status: JobStatusResponse;
  outcome: Outcome;
  polls: number;
  timedOut: boolean;
}

/**
 * Poll job_status until the outcome is no longer `pending` (approved, rejected, provisional,
 * error) or `timeoutMs` runs out; a timed-out wait returns the last status with outcome pending.
 * `immediate` asks once before the first delay (status --wait on an old job).
 * `deadline` (epoch ms, replaces now + timeoutMs) also bounds each job_status request, attempts
 * and retries included: when it runs out inside a request the wait ends as timed out with the
 * last status, or, when no status came at all, with the client's `deadline` ApiError.
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
  },
): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const bounded = options.deadline !== undefined;
  const deadline = options.deadline ?? now() + options.timeoutMs;
  let polls = 0;
  let last: JobStatusResponse | undefined;
  for (let index = 0; ; index++) {
    if (!(options.immediate && index === 0)) {
      const delay = Math.min(pollDelayMs(options.immediate ? index - 1 : index), Math.max(0, deadline - now()));
      if (delay > 0 || last) await sleep(delay, options.signal);
    }
    try {
      last = await client.jobStatus(job, { signal: options.signal, ...(bounded ? { deadline } : {}) });
    } catch (error) {
      if (bounded && last && error instanceof ApiError && error.code === 'deadline')
        return { status: last, outcome: 'pending', polls, timedOut: true };
      throw error;
    }
    polls++;
    const outcome = deriveOutcome(last);
    options.onPoll?.(last, outcome);
    if (outcome !== 'pending') return { status: last, outcome, polls, timedOut: false };
    if (now() >= deadline) return { status: last, outcome, polls, timedOut: true };
  }
}
