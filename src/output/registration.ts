import { ExitCode, isSmileCliError } from '../errors.js';
import type { RunContext } from '../context.js';
import type { RegistrationResult } from '../register/pipeline.js';
import { registrationDocument } from '../register/document.js';
import { exitCodeForOutcome } from '../smile/outcome.js';
import type { Outcome } from '../smile/outcome.js';
import { lookupCode } from '../smile/codes.js';
import { renderResultText } from './result-text.js';
import { statusCommandFor } from './shell.js';

/** Print the result (JSON or human), then turn outcome and --expect into the exit code. */
export async function finishRegistration(
  result: RegistrationResult,
  expect: Outcome | undefined,
  ctx: RunContext,
  options: { environmentLabel: string; selfiePath?: string | undefined },
): Promise<number> {
  const document = { ...registrationDocument(result), ...(expect === undefined ? {} : { expected: expect }) };
  if (ctx.interactive && !ctx.globals.json) {
    // On a terminal: the ink card, with the face that was sent beside the result.
    const { renderResultCard } = await import('../ui/result-card.js');
    let preview = '';
    if (options.selfiePath && ctx.out.color) {
      const { renderHalfBlockPreview } = await import('../selfie/preview.js');
      preview = await renderHalfBlockPreview(options.selfiePath, { width: 16, color: true }).catch(() => '');
    }
    // The card goes to stdout: chalk (ink) colours it as decided for stdout, then back to stderr's.
    const { useChalkFor } = await import('./color.js');
    await useChalkFor(ctx.out.color, ctx.io.stdout as { getColorDepth?: () => number });
    const card = renderResultCard(
      { document, environmentLabel: options.environmentLabel, preview },
      ctx.io.stdout.columns ?? 80,
    );
    await useChalkFor(ctx.out.colors.stderr, ctx.io.stderr as { getColorDepth?: () => number });
    ctx.out.result(document, () => card);
  } else {
    ctx.out.result(document, () =>
      renderResultText(document, { color: ctx.out.color, environmentLabel: options.environmentLabel }),
    );
  }
  const resume = statusCommandFor(result.userId, result.jobId, ctx.globals);
  if (result.outcome === 'pending' && result.timedOut) ctx.out.info(`Not final yet. Resume with: ${resume}`);
  if (result.outcome === 'provisional') ctx.out.info(`Under human review at Smile ID. Check later with: ${resume}`);
  if (result.outcome === 'rejected' || result.outcome === 'error') {
    const code = document.result_code;
    const hint = code && lookupCode(code)?.hint;
    ctx.out.info(
      `Next: ${(hint && withStatusCommand(hint, result, ctx.globals)) || 'Look at the Actions above; take a new, well-lit selfie and register again (a new job id is generated).'}`,
    );
  }
  if (expect !== undefined) {
    // CI smoke tests: a match is success whatever the outcome; a mismatch is exit 7.
    if (expect === result.outcome) return ExitCode.ok;
    ctx.out.info(`✗ expected ${expect}, got ${result.outcome}`);
    return ExitCode.expectation;
  }
  return exitCodeForOutcome(result.outcome);
}

/** The placeholder of the code table's hints (src/smile/codes.ts) for the job's own status command. */
const STATUS_PLACEHOLDER = 'smile status --user-id U --job-id J';

type Globals = Parameters<typeof statusCommandFor>[2];

/** A code's hint with its `smile status --user-id U --job-id J` made this job's command, shell-quoted. */
export function withStatusCommand(hint: string, job: { userId: string; jobId: string }, globals: Globals): string {
  return hint.replaceAll(STATUS_PLACEHOLDER, statusCommandFor(job.userId, job.jobId, globals, { wait: false }));
}

/** A refusal of this job (2215 …) whose hint names `smile status`: the hint gets the real command. */
export function withJobValues(error: unknown, job: { userId: string; jobId: string }, globals: Globals): unknown {
  if (isSmileCliError(error) && error.hint?.includes(STATUS_PLACEHOLDER))
    Object.assign(error, { hint: withStatusCommand(error.hint, job, globals) });
  return error;
}
