import { ApiError } from '../errors.js';
import type { GlobalOptions } from '../context.js';
import { statusCommandFor } from '../output/shell.js';
import type { Duration } from '../parse.js';
import type { RegistrationRequest } from './pipeline.js';

/**
 * --timeout ran out before the zip was known to have landed (after it, a wait that runs out is
 * `pending`, exit 8). Exit 5 with the job id and how to find out whether the job exists.
 */
export function deadlineBeforeUpload(
  error: ApiError,
  request: RegistrationRequest,
  given: { timeout: Duration; globals: GlobalOptions },
): ApiError {
  const step = typeof error.details?.['step'] === 'string' ? error.details['step'] : 'registration';
  // Only a prep upload that never got an attempt started is known not to have been sent.
  const sent = !(step === 'prep upload' && error.details?.['attempts'] === 0);
  const last = typeof error.details?.['last_failure'] === 'string' ? `; last: ${error.details['last_failure']}` : '';
  const details = {
    user_id: request.userId,
    job_id: request.jobId,
    step,
    ...(error.details?.['last_failure'] ? { last_failure: error.details['last_failure'] } : {}),
  };
  const timeout = `--timeout ${given.timeout.text}`;
  if (!sent) {
    return new ApiError(`${timeout} ran out before anything was sent (${step}${last}).`, {
      code: 'deadline',
      details,
      cause: error,
      hint: `Nothing was sent for job ${request.jobId}. Run again with a longer --timeout.`,
    });
  }
  const check = statusCommandFor(request.userId, request.jobId, given.globals, { wait: false });
  return new ApiError(`${timeout} ran out before the upload was known to have landed (${step}${last}).`, {
    code: 'deadline',
    details,
    cause: error,
    hint: `Job ${request.jobId} may exist at Smile ID without its selfie. Check with: ${check} — if it is unknown, or says no zip was received (2314), register again (a new job id), with a longer --timeout if the network is slow.`,
  });
}
