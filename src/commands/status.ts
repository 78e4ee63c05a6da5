import type { RunContext } from '../context.js';
import { ApiError, UsageError } from '../errors.js';
import { isDeadlineError, waitForRegistration } from '../register/pipeline.js';
import { deriveOutcome } from '../smile/outcome.js';
import { loadAnswerChecks } from '../smile/types.js';
import { checkId, parseDuration } from './parse.js';
import { DEFAULT_TIMEOUT, finishRegistration, parseExpect } from './register.js';

export interface StatusOptions {
  userId: string;
  jobId: string;
  wait?: boolean;
  timeout?: string;
  history?: boolean;
  imageLinks?: boolean;
  expect?: string;
}

/**
 * `smile status`: one job_status, or `--wait` on register's schedule; same JSON and exit codes.
 * --timeout is one deadline for the whole command, requests and their retries included.
 */
export async function runStatus(opts: StatusOptions, ctx: RunContext): Promise<number> {
  const job = { userId: checkId(opts.userId, '--user-id'), jobId: checkId(opts.jobId, '--job-id'), imageLinks: opts.imageLinks === true, history: opts.history === true };
  const timeoutMs = parseDuration(opts.timeout ?? DEFAULT_TIMEOUT);
  if (timeoutMs === 0) throw new UsageError('--timeout 0 leaves no time to ask: --timeout bounds the whole command.', { hint: 'Give a duration such as 30s (default 120s).' });
  const expect = parseExpect(opts.expect);
  const connection = await ctx.connect();
  // One deadline for the command, started once the answer checks are loaded (not on their import time).
  await loadAnswerChecks();
  const deadline = Date.now() + timeoutMs;
  let waited;
  try {
    if (opts.wait) {
      ctx.out.info(`Waiting for the result of job ${job.jobId}…`);
      waited = await waitForRegistration(job, timeoutMs, { client: connection.client, signal: ctx.signal }, { immediate: true, deadline });
    } else {
      const status = await connection.client.jobStatus(job, { signal: ctx.signal, deadline });
      waited = { status, outcome: deriveOutcome(status), timedOut: false };
    }
  } catch (error) {
    if (!isDeadlineError(error)) throw error;
    const last = typeof error.details?.['last_failure'] === 'string' ? ` (last: ${error.details['last_failure']})` : '';
    throw new ApiError(`--timeout ${(opts.timeout ?? DEFAULT_TIMEOUT).trim()} ran out before job_status answered${last}.`, {
      code: 'deadline',
      cause: error,
      details: { user_id: job.userId, job_id: job.jobId },
      hint: 'Nothing is known about the job yet. Check your network and --base-url (`smile doctor`), then run the same command again, with a longer --timeout if the network is slow.',
    });
  }
  const result = { ...waited, environment: connection.environment, userId: job.userId, jobId: job.jobId, smileJobId: undefined, warnings: [] };
  return finishRegistration({ ...result, timedOut: waited.timedOut || (!opts.wait && waited.outcome === 'pending') }, expect, ctx, { environmentLabel: connection.emulator ? 'emulator' : connection.environment });
}
