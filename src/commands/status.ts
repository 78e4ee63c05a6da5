import type { RunContext } from '../context.js';
import { ApiError, UsageError } from '../errors.js';
import { OUTCOMES } from '../smile/outcome.js';
import { DEFAULT_TIMEOUT, checkId } from '../parse.js';
import { choice, defineCommand, duration, flag, requiredParsed } from './define.js';
import type { ValuesOf } from './define.js';
import { ANSWER_CHECKS_HELP } from './help-topics.js';

const options = {
  userId: requiredParsed('--user-id <id>', 'the user of the job', (value) => checkId(value, '--user-id')),
  jobId: requiredParsed('--job-id <id>', 'the job id printed by register', (value) => checkId(value, '--job-id')),
  wait: flag('--wait', 'poll until the result is final'),
  timeout: duration(
    '--timeout <duration>',
    'one deadline for the whole command (with --wait: all the polling); every attempt and retry fits inside it',
    DEFAULT_TIMEOUT,
  ),
  history: flag('--history', "include the user's past results"),
  imageLinks: flag('--image-links', 'include links to the stored images'),
  expect: choice('--expect <outcome>', 'exit 7 unless the outcome is this', OUTCOMES),
};

export default defineCommand({
  name: 'status',
  summary: "print a job's status once, or --wait until it is final",
  options,
  examples: [
    'smile status --user-id u-1 --job-id job-1234 --wait',
    'smile status --user-id u-1 --job-id job-1234 --history --json',
  ],
  after: `\n${ANSWER_CHECKS_HELP}`,
  run: runStatus,
});

/**
 * `smile status`: one job_status, or `--wait` on register's schedule; same JSON and exit codes.
 * --timeout is one deadline for the whole command, requests and their retries included.
 */
async function runStatus(values: ValuesOf<typeof options>, ctx: RunContext): Promise<number> {
  const job = { userId: values.userId, jobId: values.jobId, imageLinks: values.imageLinks, history: values.history };
  if (values.timeout.ms === 0)
    throw new UsageError('--timeout 0 leaves no time to ask: --timeout bounds the whole command.', {
      hint: 'Give a duration such as 30s (default 120s).',
    });
  const connection = await ctx.connect();
  const [{ isDeadlineError, waitForRegistration }, { deriveOutcome }, { loadAnswerChecks }, { finishRegistration }] =
    await Promise.all([
      import('../register/pipeline.js'),
      import('../smile/outcome.js'),
      import('../smile/types.js'),
      import('../output/registration.js'),
    ]);
  // One deadline for the command, started once the answer checks are loaded (not on their import time).
  await loadAnswerChecks();
  const deadline = Date.now() + values.timeout.ms;
  let waited;
  try {
    if (values.wait) {
      ctx.out.info(`Waiting for the result of job ${job.jobId}…`);
      waited = await waitForRegistration(
        job,
        values.timeout.ms,
        { client: connection.client, signal: ctx.signal },
        { immediate: true, deadline },
      );
    } else {
      const status = await connection.client.jobStatus(job, { signal: ctx.signal, deadline });
      waited = { status, outcome: deriveOutcome(status), timedOut: false };
    }
  } catch (error) {
    if (!isDeadlineError(error)) throw error;
    const last = typeof error.details?.['last_failure'] === 'string' ? ` (last: ${error.details['last_failure']})` : '';
    throw new ApiError(`--timeout ${values.timeout.text} ran out before job_status answered${last}.`, {
      code: 'deadline',
      cause: error,
      details: { user_id: job.userId, job_id: job.jobId },
      hint: 'Nothing is known about the job yet. Check your network and --base-url (`smile doctor`), then run the same command again, with a longer --timeout if the network is slow.',
    });
  }
  const result = {
    ...waited,
    environment: connection.environment,
    userId: job.userId,
    jobId: job.jobId,
    smileJobId: undefined,
    warnings: [],
  };
  return finishRegistration(
    { ...result, timedOut: waited.timedOut || (!values.wait && waited.outcome === 'pending') },
    values.expect,
    ctx,
    { environmentLabel: connection.emulator ? 'emulator' : connection.environment },
  );
}
