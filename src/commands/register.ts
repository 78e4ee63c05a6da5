import { ApiError, CancelledError, ExitCode, UsageError, isSmileCliError } from '../errors.js';
import type { RunContext } from '../context.js';
import { isDeadlineError, registrationDocument, runRegistration } from '../register/pipeline.js';
import type { RegistrationEvent, RegistrationRequest, RegistrationResult } from '../register/pipeline.js';
import type { Outcome } from '../smile/outcome.js';
import { checkId, newJobId, parseDuration, parseGeo, parseParams, parseSandboxResult, OUTCOMES } from './parse.js';
import { exitCodeForOutcome, statusCommandFor } from './outcome-exit.js';
import { renderResultText } from '../output/result-text.js';
import { lookupCode } from '../smile/codes.js';

export interface RegisterOptions {
  userId?: string;
  selfie?: string;
  liveness?: string[];
  jobId?: string;
  param?: string[];
  callbackUrl?: string;
  allowReEnroll?: boolean;
  useEnrolledImage?: boolean;
  geo?: string;
  sandboxResult?: string;
  timeout?: string;
  wait?: boolean;
  expect?: string;
}

export const DEFAULT_TIMEOUT = '120s';

/** Flags → a RegistrationRequest, every value checked before anything is sent. */
export function requestFromOptions(opts: RegisterOptions & { userId: string }): RegistrationRequest {
  if (!opts.selfie && !opts.useEnrolledImage) throw new UsageError('--selfie FILE is required (or --use-enrolled-image).');
  if (opts.selfie && opts.useEnrolledImage) throw new UsageError('--selfie and --use-enrolled-image do not go together.', { hint: 'Send a new selfie, or reuse the one on file, not both.' });
  const timeoutMs = parseDuration(opts.timeout ?? DEFAULT_TIMEOUT);
  if (timeoutMs === 0) throw new UsageError('--timeout 0 leaves no time to submit the job: --timeout bounds submit, upload and wait together.', { hint: 'To submit without waiting for the result, use --no-wait.' });
  return {
    userId: checkId(opts.userId, '--user-id'),
    jobId: opts.jobId === undefined ? newJobId() : checkId(opts.jobId, '--job-id'),
    selfiePath: opts.selfie,
    livenessPaths: opts.liveness ?? [],
    params: parseParams(opts.param),
    callbackUrl: opts.callbackUrl,
    allowReEnroll: opts.allowReEnroll === true,
    useEnrolledImage: opts.useEnrolledImage === true,
    geo: opts.geo === undefined ? undefined : parseGeo(opts.geo),
    sandboxResult: opts.sandboxResult === undefined ? undefined : parseSandboxResult(opts.sandboxResult),
    wait: opts.wait !== false,
    timeoutMs,
  };
}

export function parseExpect(value: string | undefined): Outcome | undefined {
  if (value === undefined) return undefined;
  const outcome = value.trim().toLowerCase();
  if (!(OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--expect takes one of ${OUTCOMES.join(', ')}, not "${value}".`);
  return outcome as Outcome;
}

export async function runRegister(opts: RegisterOptions, ctx: RunContext): Promise<number> {
  let options = opts;
  const missing = [!opts.userId && '--user-id ID', !opts.selfie && !opts.useEnrolledImage && '--selfie FILE'].filter(Boolean) as string[];
  if (missing.length > 0) {
    if (!ctx.interactive || ctx.globals.json) {
      throw new UsageError(`Missing ${missing.join(' and ')}.`, { hint: `Example: smile register --user-id u-1 --selfie face.jpg${ctx.interactive ? '' : ' (no prompts without a terminal or with --no-input)'}` });
    }
    const { runGuidedRegister } = await import('../ui/guided-register.js');
    const guided = await runGuidedRegister(opts, ctx);
    if (!guided) throw new CancelledError('Cancelled: nothing was sent.');
    options = guided;
  }
  const expect = parseExpect(options.expect);
  const request = requestFromOptions(options as RegisterOptions & { userId: string });
  if (expect === 'submitted' && request.wait) throw new UsageError('--expect submitted needs --no-wait.');
  const connection = await ctx.connect(request.callbackUrl === undefined ? {} : { callbackUrl: request.callbackUrl });
  request.callbackUrl = connection.callbackUrl;
  await checkEnvironmentRules(request, connection.environment);

  const spinner = await startProgress(ctx);
  const { loadSelfieForUpload } = await import('../selfie/check.js');
  const onEvent = (event: RegistrationEvent) => {
    switch (event.type) {
      case 'checked':
        for (const report of event.reports) {
          for (const finding of report.findings) if (finding.severity === 'warning') spinner.warn(`${report.path}: ${finding.message}`);
        }
        return;
      case 'prep-upload':
        ctx.out.info(`job id ${event.jobId} · user ${request.userId}`);
        spinner.text('Submitting…');
        return;
      case 'prepared':
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
    result = await runRegistration(request, { client: connection.client, environment: connection.environment, signal: ctx.signal, onEvent, loadSelfie: loadSelfieForUpload });
  } catch (error) {
    spinner.stop();
    if (error instanceof CancelledError || ctx.signal.aborted) {
      throw new CancelledError(`Interrupted: job ${request.jobId} may still be processing at Smile ID.`, {
        hint: connection.emulator ? 'The in-process emulator stopped with it; nothing is left running.' : `Check it with: ${statusCommandFor(request.userId, request.jobId, ctx.globals)}`,
      });
    }
    if (isDeadlineError(error)) throw deadlineBeforeUpload(error, request, { timeout: options.timeout ?? DEFAULT_TIMEOUT, globals: ctx.globals });
    if (isSmileCliError(error) && error.details === undefined) {
      Object.assign(error, { details: { user_id: request.userId, job_id: request.jobId } });
    }
    throw error;
  }
  spinner.stop();
  return finishRegistration(result, expect, ctx, { environmentLabel: connection.emulator ? 'emulator' : connection.environment, selfiePath: request.selfiePath });
}

/**
 * --timeout ran out before the zip was known to have landed (after it, a wait that runs out is
 * `pending`, exit 8). Exit 5 with the job id and how to find out whether the job exists.
 */
function deadlineBeforeUpload(error: ApiError, request: RegistrationRequest, facts: { timeout: string; globals: RunContext['globals'] }): ApiError {
  const step = typeof error.details?.['step'] === 'string' ? error.details['step'] : 'registration';
  // Only a prep upload that never got an attempt started is known not to have been sent.
  const sent = !(step === 'prep upload' && error.details?.['attempts'] === 0);
  const last = typeof error.details?.['last_failure'] === 'string' ? `; last: ${error.details['last_failure']}` : '';
  const details = { user_id: request.userId, job_id: request.jobId, step, ...(error.details?.['last_failure'] ? { last_failure: error.details['last_failure'] } : {}) };
  const timeout = `--timeout ${facts.timeout.trim()}`;
  if (!sent) {
    return new ApiError(`${timeout} ran out before anything was sent (${step}${last}).`, { code: 'deadline', details, cause: error, hint: `Nothing was sent for job ${request.jobId}. Run again with a longer --timeout.` });
  }
  const check = statusCommandFor(request.userId, request.jobId, facts.globals).replace(' --wait', '');
  return new ApiError(`${timeout} ran out before the upload was known to have landed (${step}${last}).`, {
    code: 'deadline',
    details,
    cause: error,
    hint: `Job ${request.jobId} may exist at Smile ID without its selfie. Check with: ${check} — if it is unknown, or says no zip was received (2314), register again (a new job id), with a longer --timeout if the network is slow.`,
  });
}

/** Production refuses --sandbox-result and non-https callbacks (product.md Security). */
async function checkEnvironmentRules(request: RegistrationRequest, environment: 'sandbox' | 'production'): Promise<void> {
  if (environment === 'production' && request.sandboxResult !== undefined) {
    throw new UsageError('--sandbox-result is refused in production: it only steers sandbox results.', { hint: 'Drop --sandbox-result, or use --env sandbox.' });
  }
  if (request.callbackUrl !== undefined) {
    const { assertCallbackUrl } = await import('../config/resolve.js');
    assertCallbackUrl(request.callbackUrl, environment);
  }
}

/** Print the result (JSON or human), then turn outcome and --expect into the exit code. */
export async function finishRegistration(result: RegistrationResult, expect: Outcome | undefined, ctx: RunContext, options: { environmentLabel: string; selfiePath?: string | undefined }): Promise<number> {
  const document = registrationDocument(result);
  if (expect !== undefined) document['expected'] = expect;
  if (ctx.interactive && !ctx.globals.json) {
    // On a terminal: the ink card, with the face that was sent beside the result.
    const { renderResultCard } = await import('../ui/result-card.js');
    let preview = '';
    if (options.selfiePath && ctx.out.color) {
      const { renderHalfBlockPreview } = await import('../selfie/preview.js');
      preview = await renderHalfBlockPreview(options.selfiePath, { width: 16, color: true }).catch(() => '');
    }
    const card = renderResultCard({ document, environmentLabel: options.environmentLabel, preview }, ctx.io.stdout.columns ?? 80);
    ctx.out.result(document, () => card);
  } else {
    ctx.out.result(document, () => renderResultText(document, { color: ctx.out.color, environmentLabel: options.environmentLabel }));
  }
  const resume = statusCommandFor(result.userId, result.jobId, ctx.globals);
  if (result.outcome === 'pending' && result.timedOut) ctx.out.info(`Not final yet. Resume with: ${resume}`);
  if (result.outcome === 'provisional') ctx.out.info(`Under human review at Smile ID. Check later with: ${resume}`);
  if (result.outcome === 'rejected' || result.outcome === 'error') {
    const code = typeof document['result_code'] === 'string' ? document['result_code'] : undefined;
    ctx.out.info(`Next: ${(code && lookupCode(code)?.hint) || 'Look at the Actions above; take a new, well-lit selfie and register again (a new job id is generated).'}`);
  }
  if (expect !== undefined) {
    // CI smoke tests: a match is success whatever the outcome; a mismatch is exit 7.
    if (expect === result.outcome) return ExitCode.ok;
    ctx.out.info(`✗ expected ${expect}, got ${result.outcome}`);
    return ExitCode.expectation;
  }
  return exitCodeForOutcome(result.outcome);
}

interface Progress {
  text(line: string): void;
  warn(line: string): void;
  stop(): void;
}

/** An ora spinner on stderr when animating; plain lines otherwise (never both ink and ora). */
async function startProgress(ctx: RunContext): Promise<Progress> {
  if (!ctx.animate) {
    return {
      text: (line) => ctx.out.info(line),
      warn: (line) => ctx.out.warn(line),
      stop: () => undefined,
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: ctx.io.stderr, discardStdin: false }).start('Checking the selfie…');
  return {
    text: (line) => {
      spinner.text = line;
    },
    warn: (line) => {
      spinner.stopAndPersist({ symbol: ctx.out.paint('yellow', '!'), text: line });
      spinner.start();
    },
    stop: () => spinner.stop(),
  };
}
