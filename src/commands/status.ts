import type { RunContext } from '../context.js';
import { ApiError, CancelledError, UsageError } from '../errors.js';
import { OUTCOMES } from '../smile/outcome.js';
import { DEFAULT_TIMEOUT, checkId, parsePollInterval } from '../parse.js';
import { choice, defineCommand, duration, flag, parsed } from './define.js';
import type { ValuesOf } from './define.js';
import { ANSWER_CHECKS_HELP } from './help-topics.js';

const options = {
  userId: parsed('--user-id <id>', 'the user of the job (required unless --last)', (value) =>
    checkId(value, '--user-id'),
  ),
  jobId: parsed('--job-id <id>', 'the job id printed by register (required unless --last)', (value) =>
    checkId(value, '--job-id'),
  ),
  last: flag('--last', 'the newest registration of the local history (`smile jobs`) instead of --user-id/--job-id'),
  wait: flag('--wait', 'poll until the result is final'),
  interval: parsed(
    '--interval <duration>',
    'with --wait: ask at this fixed interval (2s or more) instead of the schedule; Retry-After still wins',
    (value) => parsePollInterval(value),
  ),
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
    'smile status --last --wait --interval 10s   # the newest registration made here',
  ],
  after: `\n${ANSWER_CHECKS_HELP}`,
  run: runStatus,
});

/**
 * `smile status`: one job_status, or `--wait` on register's schedule; same JSON and exit codes.
 * --timeout is one deadline for the whole command, requests and their retries included.
 */
async function runStatus(values: ValuesOf<typeof options>, ctx: RunContext): Promise<number> {
  if (values.timeout.ms === 0)
    throw new UsageError('--timeout 0 leaves no time to ask: --timeout bounds the whole command.', {
      hint: 'Give a duration such as 30s (default 120s).',
    });
  if (values.interval && !values.wait)
    throw new UsageError('--interval sets how often --wait asks: add --wait, or leave --interval out.');
  const { stateDir } = await import('../config/paths.js');
  const [picked, connection] = await pickJob(values, ctx, stateDir(ctx.env));
  const job = { userId: picked.userId, jobId: picked.jobId, imageLinks: values.imageLinks, history: values.history };
  const [
    { isDeadlineError, waitForRegistration },
    { deriveOutcome },
    { loadAnswerChecks },
    { finishRegistration },
    { statusCommandFor },
    { startProgress },
  ] = await Promise.all([
    import('../register/pipeline.js'),
    import('../smile/outcome.js'),
    import('../smile/types.js'),
    import('../output/registration.js'),
    import('../output/shell.js'),
    import('../ui/progress.js'),
  ]);
  // One deadline for the command, started once the answer checks are loaded (not on their import time).
  await loadAnswerChecks();
  const deadline = Date.now() + values.timeout.ms;
  let waited;
  // A spinner on a terminal, one plain line otherwise.
  const spinner = values.wait ? await startProgress(ctx, `Waiting for the result of job ${job.jobId}…`) : undefined;
  try {
    if (values.wait) {
      waited = await waitForRegistration(
        job,
        values.timeout.ms,
        { client: connection.client, signal: ctx.signal, pollIntervalMs: values.interval?.ms },
        { immediate: true, deadline },
      );
    } else {
      const status = await connection.client.jobStatus(job, { signal: ctx.signal, deadline });
      waited = { status, outcome: deriveOutcome(status), timedOut: false };
    }
  } catch (error) {
    spinner?.stop();
    if (error instanceof CancelledError || ctx.signal.aborted)
      throw new CancelledError(`Interrupted: stopped asking about job ${job.jobId}; Smile ID goes on with it.`, {
        hint: connection.emulator
          ? 'The in-process emulator stopped with it; nothing is left running.'
          : `Resume with: ${statusCommandFor(job.userId, job.jobId, ctx.globals, { wait: values.wait })}`,
      });
    if (!isDeadlineError(error)) throw error;
    const last = typeof error.details?.['last_failure'] === 'string' ? ` (last: ${error.details['last_failure']})` : '';
    throw new ApiError(`--timeout ${values.timeout.text} ran out before job_status answered${last}.`, {
      code: 'deadline',
      cause: error,
      details: { user_id: job.userId, job_id: job.jobId },
      hint: 'Nothing is known about the job yet. Check your network and --base-url (`smile doctor`), then run the same command again, with a longer --timeout if the network is slow.',
    });
  }
  spinner?.stop();
  if (!connection.emulator) {
    const { recordStatus } = await import('../history/record.js');
    await recordStatus(stateDir(ctx.env), connection, job, waited.outcome).catch(() => undefined);
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

/**
 * The job to ask about: --user-id and --job-id, or with --last the newest registration of the
 * local history, which must be on the server this command asks (else the ids mean another job).
 */
async function pickJob(
  values: ValuesOf<typeof options>,
  ctx: RunContext,
  dir: string,
): Promise<[{ userId: string; jobId: string }, Awaited<ReturnType<RunContext['connect']>>]> {
  if (!values.last) {
    const missing = [!values.userId && '--user-id ID', !values.jobId && '--job-id ID'].filter(Boolean);
    if (values.userId === undefined || values.jobId === undefined)
      throw new UsageError(`Missing ${missing.join(' and ')}.`, {
        hint: 'Example: smile status --user-id u-1 --job-id job-1234; or --last for the newest registration made here (`smile jobs` lists them).',
      });
    return [{ userId: values.userId, jobId: values.jobId }, await ctx.connect()];
  }
  if (values.userId !== undefined || values.jobId !== undefined)
    throw new UsageError('--last picks the user and job itself: it does not go with --user-id or --job-id.');
  const [{ RegistrationHistory }, { historyHost }, { statusCommandFor }] = await Promise.all([
    import('../history/store.js'),
    import('../history/record.js'),
    import('../output/shell.js'),
  ]);
  const history = new RegistrationHistory(dir);
  const newest = (await history.list())[0];
  if (!newest)
    throw new UsageError(`--last: the local history is empty (${history.file}): nothing to resume.`, {
      code: 'history_empty',
      hint: '`smile register` adds each registration it sends (not --emulator or bulk runs); otherwise pass --user-id and --job-id.',
    });
  const connection = await ctx.connect();
  const host = historyHost(connection.baseUrl);
  if (host !== newest.host) {
    const picked = newest.profile ? ` (profile ${newest.profile})` : '';
    throw new UsageError(
      `--last is job ${newest.job_id} of user ${newest.user_id} at ${newest.host}${picked}, but this command asks ${host}.`,
      {
        code: 'history_other_server',
        hint: `Ask the server it was sent to${newest.profile ? `, e.g. ${statusCommandFor(newest.user_id, newest.job_id, { profile: newest.profile }, { wait: values.wait })}` : ' (--profile, --env or --base-url)'}.`,
      },
    );
  }
  ctx.out.info(
    `Last registration: job ${newest.job_id} of user ${newest.user_id} (sent ${newest.at}, ${newest.outcome})`,
  );
  return [{ userId: newest.user_id, jobId: newest.job_id }, connection];
}
