import { ExitCode } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import type { JobStatusResponse, ResultObject } from './types.js';

/** The outcomes of product.md, in the order `--expect` lists them. */
export const OUTCOMES = ['approved', 'rejected', 'provisional', 'pending', 'submitted', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Action values that mean "a person at Smile ID still has to look at it" (§6.3). */
const REVIEW_VALUES = new Set(['under review', 'provisionally approved', 'sent to human review']);

/** The result object when the server sent one (it is a plain string while no zip has arrived). */
export function resultObject(status: Pick<JobStatusResponse, 'result'> | undefined): ResultObject | undefined {
  const result = status?.result;
  return result !== null && typeof result === 'object' && !Array.isArray(result) ? result : undefined;
}

/**
 * product.md's outcome rule, from `job_complete`, `job_success` and `Actions` — never from a list of
 * result codes alone: incomplete → pending; success → approved; a result still under (human)
 * review or marked not final → provisional; a complete job without a result object → error;
 * anything else complete → rejected.
 */
export function deriveOutcome(status: Pick<JobStatusResponse, 'job_complete' | 'job_success' | 'result'>): Outcome {
  if (status.job_complete !== true) return 'pending';
  const result = resultObject(status);
  if (status.job_success === true) return 'approved';
  if (result === undefined) return 'error';
  const actions = Object.values(result.Actions ?? {}).map((value) => String(value).toLowerCase());
  const underReview = actions.some((value) => REVIEW_VALUES.has(value));
  if (underReview || String(result.IsFinalResult).toLowerCase() === 'false') return 'provisional';
  return 'rejected';
}

/** Final outcomes end polling; provisional ends it too unless the caller waits for the review. */
export function isFinalOutcome(outcome: Outcome): boolean {
  return outcome === 'approved' || outcome === 'rejected' || outcome === 'error';
}

/** product.md: approved 0 · rejected 6 · provisional/pending 8 · submitted 0 · error 5. */
export function exitCodeForOutcome(outcome: Outcome): ExitCodeValue {
  switch (outcome) {
    case 'approved':
    case 'submitted':
      return ExitCode.ok;
    case 'rejected':
      return ExitCode.refused;
    case 'provisional':
    case 'pending':
      return ExitCode.notFinal;
    case 'error':
      return ExitCode.api;
  }
}
