import { relative } from 'node:path';
import {
  ApiError,
  AuthError,
  CancelledError,
  InputError,
  RefusedError,
  SmileCliError,
  isSmileCliError,
} from '../errors.js';
import { runRegistration, waitForRegistration } from '../register/pipeline.js';
import type { Environment } from '../config/validate.js';
import type { RegistrationDeps, RegistrationEvent, RegistrationRequest } from '../register/pipeline.js';
import type { SmileClient } from '../smile/client.js';
import { deriveOutcome, resultObject } from '../smile/outcome.js';
import type { Outcome } from '../smile/outcome.js';
import type { SelfieReport } from '../selfie/check.js';
import { sleep } from '../smile/retry.js';
import { REENROLL_ROUTE } from '../smile/codes.js';
import type { JobStatusResponse } from '../smile/types.js';
import type { JournalSink, RowStep } from './journal.js';
import type { BulkRow } from './input.js';
import { rowDocument } from './row-result.js';
import type { BulkOutcome, RowResult, RowStatus } from './row-result.js';
import type { IfEnrolled } from './values.js';

/**
 * One row's registration, on top of src/register: submit it (check, pin its job in the journal,
 * prep upload, PUT: exactly once, even across crashes and resumes), then wait for its result. A
 * row that fails comes back as a value (`RowResult`), never as an exception, unless the failure
 * ends the whole run (`isFatalRowError`).
 */

/** What this run knows of a row in flight (mutated as the journal records its steps). */
export interface RowState {
  jobId: string;
  step: 'new' | RowStep;
  smileJobId: string | undefined;
}

export interface RowDeps {
  client: SmileClient;
  environment: Environment;
  signal: AbortSignal;
  loadSelfie: RegistrationDeps['loadSelfie'];
  journal: JournalSink;
}

export interface RowOptions {
  wait: boolean;
  timeoutMs: number;
  ifEnrolled: IfEnrolled;
  /** The profile's default callback URL, for rows without their own. */
  callbackUrl: string | undefined;
}

/** The request of one row (job id from the journal or the row, wait off: waiting is the poller's). */
export function requestForRow(row: BulkRow, state: RowState, options: RowOptions): RegistrationRequest {
  return {
    userId: row.userId,
    jobId: state.jobId,
    selfiePath: row.selfiePath,
    livenessPaths: row.livenessPaths,
    params: row.params,
    callbackUrl: row.callbackUrl ?? options.callbackUrl,
    allowReEnroll: row.allowReEnroll || options.ifEnrolled === 'replace',
    useEnrolledImage: row.useEnrolledImage,
    geo: row.geo,
    sandboxResult: row.sandboxResult,
    wait: false,
    timeoutMs: options.timeoutMs,
  };
}

/** The job_status answer for a job smile does not know exists (emulator: HTTP 404, code 2303; UNVERIFIED for Smile ID). */
export function isJobNotFound(error: unknown): boolean {
  if (!isSmileCliError(error)) return false;
  return error.code === '2303' || error.details?.['http_status'] === 404;
}

/** What job_status says about a job whose prep upload may have landed. */
type Lookup = { kind: 'absent' } | { kind: 'no-zip' } | { kind: 'found'; status: JobStatusResponse };

async function lookupJob(row: BulkRow, state: RowState, deps: RowDeps): Promise<Lookup> {
  try {
    const status = await deps.client.jobStatus({ userId: row.userId, jobId: state.jobId }, { signal: deps.signal });
    if (
      status.job_complete !== true &&
      (String(status.code) === '2314' || (typeof status.result === 'string' && /zip/i.test(status.result)))
    )
      return { kind: 'no-zip' };
    return { kind: 'found', status };
  } catch (error) {
    if (isJobNotFound(error)) return { kind: 'absent' };
    throw error;
  }
}

/** The two phases of a row: `submit` holds a worker; `wait` runs beside the workers. */
export interface SubmittedRow {
  /** A result known without waiting (found complete, or --no-wait). */
  result?: RowResult;
  /** Poll this job to its result (`immediate`: ask once before the first delay). */
  wait?: { immediate: boolean };
  warnings: string[];
}

/**
 * Phase 1 of a row: get its job uploaded exactly once. A new row is checked, pinned in the
 * journal, prep-uploaded and PUT. A row the journal (or an earlier round of this run) knows
 * asks job_status first: unknown → submit; known without a zip (2314) → submit again with
 * `retry: true` (same job); zip received → wait; complete → take the result.
 */
export async function submitRow(
  row: BulkRow,
  state: RowState,
  options: RowOptions,
  deps: RowDeps,
): Promise<SubmittedRow> {
  const warnings: string[] = [];
  let resume = false;
  if (state.step === 'uploaded') {
    return options.wait
      ? { wait: { immediate: true }, warnings }
      : { result: finishedRow(row, state, 'submitted', undefined, deps, warnings), warnings };
  }
  if (state.step !== 'new') {
    const found = await lookupJob(row, state, deps);
    if (found.kind === 'found') {
      if (found.status.job_complete === true || !options.wait) {
        const outcome = options.wait || found.status.job_complete === true ? deriveOutcome(found.status) : 'submitted';
        return { result: finishedRow(row, state, outcome, found.status, deps, warnings), warnings };
      }
      state.step = 'uploaded';
      return { wait: { immediate: false }, warnings };
    }
    // A job that got its smile_job_id exists whatever job_status says: recover it, never make a second.
    resume = found.kind === 'no-zip' || state.step === 'prepared';
  }
  const onEvent = async (event: RegistrationEvent): Promise<void> => {
    switch (event.type) {
      case 'checked':
        for (const report of event.reports) for (const finding of report.findings) warnings.push(finding.code);
        for (const notice of event.notices) warnings.push(notice.code);
        return;
      case 'prep-upload':
        if (state.step === 'new') {
          await deps.journal.append({ t: 'pin', line: row.line, user_id: row.userId, job_id: state.jobId });
          state.step = 'pinned';
        }
        return;
      case 'prepared':
        state.smileJobId = event.smileJobId;
        await deps.journal.append({ t: 'prepared', line: row.line, smile_job_id: event.smileJobId });
        if (state.step !== 'uploaded') state.step = 'prepared';
        return;
      case 'uploaded':
        await deps.journal.append({ t: 'uploaded', line: row.line });
        state.step = 'uploaded';
        return;
      case 'poll':
        return;
    }
  };
  const request = requestForRow(row, state, options);
  await runRegistration(
    request,
    { client: deps.client, environment: deps.environment, signal: deps.signal, loadSelfie: deps.loadSelfie, onEvent },
    { resume },
  );
  if (!options.wait) return { result: finishedRow(row, state, 'submitted', undefined, deps, warnings), warnings };
  return { wait: { immediate: false }, warnings };
}

/**
 * Phase 2: poll the uploaded job to its result (or `--timeout`: pending, retryable). `delayMs`
 * (learned by the scheduler from jobs that finished before) is slept before the first look, so a
 * job is usually asked about once, when its result is due, instead of on the early schedule.
 */
export async function waitRow(
  row: BulkRow,
  state: RowState,
  first: { immediate: boolean; delayMs: number },
  options: RowOptions,
  deps: RowDeps,
  warnings: string[],
): Promise<RowResult & { timedOut: boolean }> {
  const delayMs = first.immediate ? 0 : Math.max(0, Math.min(first.delayMs, options.timeoutMs));
  if (delayMs > 0) {
    try {
      await sleep(delayMs, deps.signal);
    } catch {
      throw new CancelledError();
    }
  }
  const waited = await waitForRegistration(
    { userId: row.userId, jobId: state.jobId },
    options.timeoutMs - delayMs,
    { client: deps.client, signal: deps.signal },
    { immediate: first.immediate || delayMs > 0 },
  );
  const result = finishedRow(row, state, waited.outcome, waited.status, deps, warnings);
  if (waited.timedOut) {
    result.reason = `not final after --timeout ${Math.round(options.timeoutMs / 1000)}s; run again with --resume to keep waiting`;
    result.doc.reason = result.reason;
  }
  return { ...result, timedOut: waited.timedOut };
}

function statusOfOutcome(outcome: BulkOutcome): RowStatus {
  switch (outcome) {
    case 'approved':
    case 'submitted':
    case 'skipped':
    case 'checked':
      return 'ok';
    case 'provisional':
    case 'pending':
    case 'error':
      return 'retryable';
    case 'rejected':
    case 'refused':
    case 'invalid':
      return 'failed';
  }
}

function reasonOfOutcome(outcome: BulkOutcome, status: JobStatusResponse | undefined): string | undefined {
  const object = resultObject(status);
  const code = object?.ResultCode
    ? `${String(object.ResultCode)} ${String(object.ResultText ?? '')}`.trim()
    : undefined;
  switch (outcome) {
    case 'rejected':
      return `rejected${code ? `: ${code}` : ''}`;
    case 'provisional':
      return `under human review${code ? ` (${code})` : ''}; run again with --resume later for the final result`;
    case 'pending':
      return 'not final yet; run again with --resume to keep waiting';
    case 'error':
      return 'the job finished without a result object; run again with --resume, or check it with smile status';
    default:
      return undefined;
  }
}

function finishedRow(
  row: BulkRow,
  state: RowState,
  outcome: Outcome,
  status: JobStatusResponse | undefined,
  deps: RowDeps,
  warnings: string[],
): RowResult {
  const rowStatus = statusOfOutcome(outcome);
  const reason = reasonOfOutcome(outcome, status);
  return {
    line: row.line,
    userId: row.userId,
    jobId: state.jobId,
    outcome,
    status: rowStatus,
    reason,
    doc: rowDocument({
      line: row.line,
      outcome,
      status: rowStatus,
      environment: deps.environment,
      userId: row.userId,
      jobId: state.jobId,
      smileJobId: state.smileJobId,
      jobStatus: status,
      reason,
      warnings,
      livenessFrames: row.livenessPaths.length,
    }),
    raw: row.raw,
    fromJournal: false,
  };
}

/** "selfie photos/u1.jpg: The file is text, not an image…" from the selfie checks' findings. */
function selfieReason(error: InputError): string | undefined {
  const files = error.details?.['files'];
  if (!Array.isArray(files)) return undefined;
  const failed = (files as SelfieReport[]).filter((report) => !report.ok);
  const first = failed[0];
  if (!first) return undefined;
  const finding = first.findings.find((item) => item.severity === 'error');
  const name = relative(process.cwd(), first.path) || first.path;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more file${failed.length > 2 ? 's' : ''})` : '';
  return `${name}: ${(finding?.message ?? 'the image failed its checks').replace(/\.+$/, '')}${more}`;
}

/** Errors that end the whole run, not one row: bad credentials or signatures, a journal that cannot be written, bugs. */
export function isFatalRowError(error: unknown): boolean {
  if (error instanceof CancelledError) return false;
  if (error instanceof AuthError) return true;
  if (!isSmileCliError(error)) return true;
  return (
    error.code === 'journal_write' ||
    !(error instanceof InputError || error instanceof RefusedError || error instanceof ApiError)
  );
}

/** A row that failed with a (non-fatal) error, as a value: invalid, refused, skipped (2209 + skip) or retryable. */
export function failedRow(
  row: BulkRow,
  state: RowState,
  error: SmileCliError,
  options: RowOptions,
  environment: Environment,
  warnings: readonly string[] = [],
): RowResult {
  let outcome: BulkOutcome;
  let reason = error.message;
  if (error instanceof InputError) {
    outcome = 'invalid';
    reason = selfieReason(error) ?? reason;
  } else if (error instanceof RefusedError && error.code === '2209' && options.ifEnrolled === 'skip') {
    outcome = 'skipped';
    reason = 'already registered (2209): skipped as asked by --if-enrolled skip';
  } else if (error instanceof RefusedError) {
    outcome = 'refused';
    if (error.code === '2209')
      reason =
        options.ifEnrolled === 'replace'
          ? `${error.message} even with allow_new_enroll (--if-enrolled replace): ${REENROLL_ROUTE}`
          : `${error.message} (use --if-enrolled skip or replace)`;
  } else outcome = 'error';
  const status = statusOfOutcome(outcome);
  if (status === 'retryable') reason = `${reason.replace(/\.$/, '')}; run again with --resume`;
  // A job that never got past its prep upload has no id worth printing, unless it was pinned.
  const jobId = state.step === 'new' ? undefined : state.jobId;
  return {
    line: row.line,
    userId: row.userId,
    jobId,
    outcome,
    status,
    reason,
    doc: rowDocument({
      line: row.line,
      outcome,
      status,
      environment,
      userId: row.userId,
      jobId,
      smileJobId: state.smileJobId,
      jobStatus: undefined,
      reason,
      errorCode: error.code,
      warnings,
    }),
    raw: row.raw,
    fromJournal: false,
  };
}
