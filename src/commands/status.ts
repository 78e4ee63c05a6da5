import type { RunContext } from '../context.js';
import { waitForRegistration } from '../register/pipeline.js';
import { deriveOutcome } from '../smile/outcome.js';
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

/** `smile status`: one job_status, or `--wait` on register's schedule; same JSON and exit codes. */
export async function runStatus(opts: StatusOptions, ctx: RunContext): Promise<number> {
  const job = { userId: checkId(opts.userId, '--user-id'), jobId: checkId(opts.jobId, '--job-id'), imageLinks: opts.imageLinks === true, history: opts.history === true };
  const timeoutMs = parseDuration(opts.timeout ?? DEFAULT_TIMEOUT);
  const expect = parseExpect(opts.expect);
  const connection = await ctx.connect();
  let waited;
  if (opts.wait) {
    ctx.out.info(`Waiting for the result of job ${job.jobId}…`);
    waited = await waitForRegistration(job, timeoutMs, { client: connection.client, signal: ctx.signal }, { immediate: true });
  } else {
    const status = await connection.client.jobStatus(job, { signal: ctx.signal });
    waited = { status, outcome: deriveOutcome(status), timedOut: false };
  }
  const result = { ...waited, environment: connection.environment, userId: job.userId, jobId: job.jobId, smileJobId: undefined, warnings: [] };
  return finishRegistration({ ...result, timedOut: waited.timedOut || (!opts.wait && waited.outcome === 'pending') }, expect, ctx, { environmentLabel: connection.emulator ? 'emulator' : connection.environment });
}
