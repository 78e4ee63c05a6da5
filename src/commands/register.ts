import { CancelledError, DeclinedError, UsageError, isSmileCliError } from '../errors.js';
import type { RunContext } from '../context.js';
import type { RegistrationEvent, RegistrationRequest, RegistrationResult } from '../register/pipeline.js';
import type { PollTimes } from '../register/schedule.js';
import { OUTCOMES } from '../smile/outcome.js';
import type { Environment } from '../config/validate.js';
import {
  DEFAULT_TIMEOUT,
  checkId,
  newJobId,
  parseGeo,
  parseParams,
  parsePollInterval,
  parseSandboxResult,
} from '../parse.js';
import { choice, defineCommand, duration, flag, negatedFlag, parsed, repeated, text, texts } from './define.js';
import type { ValuesOf } from './define.js';
import { ANSWER_CHECKS_HELP, SKIP_FACE_CHECK_HELP } from './help-topics.js';

const SANDBOX_RESULT_CHOICES = ['approve', 'reject', 'provisional'] as const;

const options = {
  userId: text('--user-id <id>', 'the user to register (required)'),
  selfie: text('--selfie <file>', 'selfie image (required unless --capture)'),
  liveness: texts('--liveness <files...>', 'liveness frames (optional)'),
  capture: flag(
    '--capture',
    "take the selfie and liveness frames in a browser, with Smile ID's own capture component served on this computer",
  ),
  open: negatedFlag('--no-open', 'with --capture: print the page address instead of opening a browser'),
  captureTimeout: duration('--capture-timeout <duration>', 'with --capture: how long to wait for the photos', '10m'),
  skipFaceCheck: flag('--skip-face-check', SKIP_FACE_CHECK_HELP),
  jobId: parsed(
    '--job-id <id>',
    'job id (default: a fresh job-<uuid>); an existing one is refused (2215): `smile status` shows its result',
    (value) => checkId(value, '--job-id'),
  ),
  param: repeated('--param <key=value>', 'extra partner param, repeatable (string values)'),
  callbackUrl: text('--callback-url <url>', 'where Smile ID POSTs the result (https in production)'),
  allowReEnroll: flag('--allow-re-enroll', 'replace the selfie of an already registered user (allow_new_enroll)'),
  useEnrolledImage: flag(
    '--use-enrolled-image',
    'replace the selfie on file of an already registered user with the new --selfie (use_enrolled_image); a user with none is refused (2216)',
  ),
  geo: parsed(
    '--geo <lat,lon[,alt]>',
    "capture location in decimal degrees, sent as Smile ID's Android SDK sends it; an altitude is accepted but not sent",
    (value) => parseGeo(value),
  ),
  sandboxResult: choice(
    '--sandbox-result <result>',
    'force the sandbox outcome (sandbox/emulator only)',
    SANDBOX_RESULT_CHOICES,
  ),
  timeout: duration(
    '--timeout <duration>',
    'one deadline for the whole command: submit, upload and wait together (from the first request, after the selfie checks); every attempt and retry fits inside it',
    DEFAULT_TIMEOUT,
  ),
  wait: negatedFlag('--no-wait', 'submit and exit without waiting (outcome "submitted")'),
  interval: parsed(
    '--interval <duration>',
    'ask for the result at this fixed interval (2s or more) instead of the learned schedule; Retry-After still wins',
    (value) => parsePollInterval(value),
  ),
  expect: choice('--expect <outcome>', 'exit 7 unless the outcome is this (CI smoke tests)', OUTCOMES),
};
export type RegisterValues = ValuesOf<typeof options>;

export default defineCommand({
  name: 'register',
  summary: 'register one person: check selfie → upload → wait for the result',
  options,
  examples: [
    'smile register --user-id u-1 --selfie face.jpg',
    'smile register --user-id u-1 --selfie face.jpg --liveness f1.jpg f2.jpg f3.jpg --geo -1.29,36.82',
    'smile register --user-id u-1 --selfie new.jpg --allow-re-enroll --param branch=nairobi',
    'smile register --user-id u-1 --capture   # take the selfie in the browser',
    'smile register --emulator --user-id ci-1 --selfie face.jpg --sandbox-result reject --expect rejected --json',
  ],
  after: `
The job id is printed on stderr as soon as it exists; \`smile status\` resumes an interrupted wait.
Exit codes: 0 approved/submitted · 4 selfie failed checks · 5 API/network failure, or --timeout ran out before the upload landed · 6 rejected/refused · 7 --expect mismatch · 8 pending/provisional, or --timeout ran out while waiting · 9 declined in the form (nothing sent) · 130 interrupted (see \`smile help exit-codes\`).
${ANSWER_CHECKS_HELP}`,
  run: runRegister,
});

/** Flags → a RegistrationRequest, every value checked before anything is sent. */
function requestFromValues(values: RegisterValues & { userId: string }): RegistrationRequest {
  if (values.capture && (values.selfie || values.liveness))
    throw new UsageError('--capture takes the photos itself: it does not go with --selfie or --liveness.');
  if (!values.selfie && !values.capture) throw missingSelfie(values);
  if (values.timeout.ms === 0)
    throw new UsageError(
      '--timeout 0 leaves no time to submit the job: --timeout bounds submit, upload and wait together.',
      { hint: 'To submit without waiting for the result, use --no-wait.' },
    );
  return {
    userId: checkId(values.userId, '--user-id'),
    jobId: values.jobId ?? newJobId(),
    selfiePath: values.selfie,
    livenessPaths: values.liveness ?? [],
    params: parseParams(values.param),
    callbackUrl: values.callbackUrl,
    allowReEnroll: values.allowReEnroll,
    useEnrolledImage: values.useEnrolledImage,
    geo: values.geo,
    sandboxResult: values.sandboxResult === undefined ? undefined : parseSandboxResult(values.sandboxResult),
    wait: values.wait,
    timeoutMs: values.timeout.ms,
  };
}

async function runRegister(values: RegisterValues, ctx: RunContext): Promise<number> {
  let options = values;
  let profile: string | undefined;
  // A registration (job_type 4) always sends a selfie, --use-enrolled-image too: no prompt stands in.
  if (values.useEnrolledImage && !values.selfie && !values.capture) throw missingSelfie(values);
  const missing = [!values.userId && '--user-id ID', !values.selfie && !values.capture && '--selfie FILE'].filter(
    Boolean,
  ) as string[];
  if (missing.length > 0) {
    if (!ctx.interactive || ctx.globals.json) {
      throw new UsageError(`Missing ${missing.join(' and ')}.`, {
        hint: `Example: smile register --user-id u-1 --selfie face.jpg${ctx.interactive ? '' : ' (no prompts without a terminal or with --no-input)'}`,
      });
    }
    const { runGuidedRegister } = await import('../ui/guided-register.js');
    const guided = await runGuidedRegister(
      {
        userId: values.userId,
        selfie: values.selfie,
        allowReEnroll: values.allowReEnroll,
        skipFaceCheck: values.skipFaceCheck,
      },
      ctx,
    );
    if (!guided) throw new DeclinedError();
    options = {
      ...values,
      userId: guided.userId,
      selfie: guided.selfie,
      capture: guided.capture,
      allowReEnroll: guided.allowReEnroll,
    };
    profile = guided.profile;
  }
  const expect = options.expect;
  const request = requestFromValues({ ...options, userId: options.userId ?? '' });
  if (expect === 'submitted' && request.wait) throw new UsageError('--expect submitted needs --no-wait.');
  if (options.interval && !request.wait)
    throw new UsageError('--interval sets how often to ask for the result: it does not go with --no-wait.');
  // The modules that check and send the selfie load while the profile and credentials are read.
  const modules = Promise.all([
    import('../selfie/check.js'),
    import('../register/pipeline.js'),
    import('../output/shell.js'),
    import('../register/deadline.js'),
    import('../ui/progress.js'),
    import('../history/record.js'),
  ]);
  modules.catch(() => undefined);
  const connection = await ctx.connect({
    ...(request.callbackUrl === undefined ? {} : { callbackUrl: request.callbackUrl }),
    ...(profile === undefined ? {} : { profile }),
  });
  request.callbackUrl = connection.callbackUrl;
  await checkEnvironmentRules(request, connection.environment);
  if (options.capture) {
    // The photos are taken now, and checked and sent like files (image types 0 and 4).
    const { captureInBrowser, saveCapturedImages, temporaryCaptureDir } = await import('../capture/run.js');
    const images = await captureInBrowser(ctx, { open: options.open, timeout: options.captureTimeout });
    const saved = await saveCapturedImages(await temporaryCaptureDir(ctx), images);
    request.selfiePath = saved.selfie;
    request.livenessPaths = saved.liveness;
  }

  const [
    { loadSelfieForUpload },
    { runRegistration, isDeadlineError },
    { statusCommandFor },
    { deadlineBeforeUpload },
    { startProgress },
    { recordRegistration },
  ] = await modules;
  // The poll schedule learns how long jobs take on this server (durations only; not for --emulator's one-off port).
  let pollTimes: PollTimes | undefined;
  if (request.wait && !connection.emulator) {
    const [{ pollTimesFile }, { stateDir }] = await Promise.all([
      import('../register/schedule.js'),
      import('../config/paths.js'),
    ]);
    pollTimes = pollTimesFile(stateDir(ctx.env), connection.baseUrl, 4);
  }
  // The local history (`smile jobs`, `status --last`): not for --emulator, whose jobs end with the command.
  const history = connection.emulator
    ? undefined
    : recordRegistration((await import('../config/paths.js')).stateDir(ctx.env), connection, request);
  const spinner = await startProgress(ctx);
  const onEvent = (event: RegistrationEvent) => {
    switch (event.type) {
      case 'checked':
        for (const report of event.reports) {
          for (const finding of report.findings)
            if (finding.severity === 'warning') spinner.warn(`${report.path}: ${finding.message}`);
        }
        for (const notice of event.notices) spinner.warn(notice.message);
        return;
      case 'prep-upload':
        ctx.out.info(`job id ${event.jobId} · user ${request.userId}`);
        spinner.text('Submitting…');
        return history?.sent();
      case 'prepared':
        history?.smileJobId(event.smileJobId);
        spinner.text(`Uploading (Smile job ${event.smileJobId})…`);
        return;
      case 'uploaded':
        if (request.wait) spinner.text(`Waiting for the result of Smile job ${event.smileJobId}…`);
        return;
      case 'poll':
        return;
    }
  };

  let result: RegistrationResult;
  // --timeout is one deadline for prep upload, zip PUT and the wait together.
  request.wholeTimeout = true;
  try {
    result = await runRegistration(request, {
      client: connection.client,
      environment: connection.environment,
      signal: ctx.signal,
      onEvent,
      loadSelfie: (path, load) => loadSelfieForUpload(path, { ...load, skipFaceCheck: options.skipFaceCheck }),
      pollTimes,
      pollIntervalMs: options.interval?.ms,
    });
  } catch (error) {
    spinner.stop();
    const interrupted = error instanceof CancelledError || ctx.signal.aborted;
    await history?.ended(interrupted ? 'interrupted' : 'error', isSmileCliError(error) ? error.code : undefined);
    if (interrupted) {
      throw new CancelledError(`Interrupted: job ${request.jobId} may still be processing at Smile ID.`, {
        hint: connection.emulator
          ? 'The in-process emulator stopped with it; nothing is left running.'
          : `Check it with: ${statusCommandFor(request.userId, request.jobId, ctx.globals)}`,
      });
    }
    if (isDeadlineError(error))
      throw deadlineBeforeUpload(error, request, { timeout: options.timeout, globals: ctx.globals });
    if (isSmileCliError(error) && error.details === undefined) {
      Object.assign(error, { details: { user_id: request.userId, job_id: request.jobId } });
    }
    const { withJobValues } = await import('../output/registration.js');
    throw withJobValues(error, request, ctx.globals);
  }
  spinner.stop();
  await history?.ended(result.outcome);
  const { finishRegistration } = await import('../output/registration.js');
  return finishRegistration(result, expect, ctx, {
    environmentLabel: connection.emulator ? 'emulator' : connection.environment,
    selfiePath: request.selfiePath,
  });
}

/**
 * No selfie: every official SDK refuses a job_type 4 without one ("You need to send through at
 * least one selfie image", smile-api.md §4.1), and --use-enrolled-image does not stand in for it:
 * for a registration it replaces the selfie on file with a new one (smile-api.md §6.5).
 */
function missingSelfie(values: RegisterValues): UsageError {
  if (values.useEnrolledImage)
    return new UsageError(
      '--use-enrolled-image replaces the selfie on file with a new one: it needs --selfie FILE (or --capture).',
      {
        hint: 'A registration always sends a selfie; to register again with a new one, --allow-re-enroll does the same.',
      },
    );
  return new UsageError('--selfie FILE is required (or --capture).');
}

/** Production refuses --sandbox-result and non-https callbacks (product.md Security). */
async function checkEnvironmentRules(request: RegistrationRequest, environment: Environment): Promise<void> {
  if (environment === 'production' && request.sandboxResult !== undefined) {
    throw new UsageError('--sandbox-result is refused in production: it only steers sandbox results.', {
      hint: 'Drop --sandbox-result, or use --env sandbox.',
    });
  }
  if (request.callbackUrl !== undefined) {
    const { assertCallbackUrl } = await import('../config/validate.js');
    assertCallbackUrl(request.callbackUrl, environment);
  }
}
