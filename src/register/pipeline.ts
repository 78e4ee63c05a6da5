import { ApiError, InputError, printable } from '../errors.js';
import type { JobStatusInput, SmileClient } from '../smile/client.js';
import { buildJobZip } from '../smile/package.js';
import { loadAnswerChecks } from '../smile/types.js';
import type { Outcome } from '../smile/outcome.js';
import type { GeoInfo, JobStatusResponse, PartnerParams } from '../smile/types.js';
import type { SelfieReport } from '../selfie/check.js';
import { pollJobUntilFinal } from './wait.js';

import type { Environment } from '../config/validate.js';
import type { DocumentSource } from './document.js';

/** One registration, as flags or a bulk row describe it (product.md mapping table). */
export interface RegistrationRequest {
  userId: string;
  jobId: string;
  selfiePath?: string | undefined;
  livenessPaths?: readonly string[];
  params?: Readonly<Record<string, string>>;
  callbackUrl?: string | undefined;
  allowReEnroll?: boolean;
  useEnrolledImage?: boolean;
  geo?: GeoInfo | undefined;
  /** "0" approve, "1" reject, "2" provisional (sandbox only). */
  sandboxResult?: '0' | '1' | '2' | undefined;
  wait: boolean;
  timeoutMs: number;
  /**
   * register --timeout: timeoutMs is one deadline for submit, upload and wait together, counted
   * from the first request (after the local checks): every request's attempts and retries fit
   * inside it, and the wait ends at it. Absent: timeoutMs bounds only the wait, and each request
   * has its own per-attempt timeouts and retries (bulk's per-row --timeout).
   */
  wholeTimeout?: boolean;
}

/** Progress of one registration; bulk journals these, the CLI prints them. */
export type RegistrationEvent =
  | { type: 'checked'; reports: SelfieReport[] }
  | { type: 'prep-upload'; jobId: string }
  | { type: 'prepared'; jobId: string; smileJobId: string; retried: boolean }
  | { type: 'uploaded'; jobId: string; smileJobId: string }
  | { type: 'poll'; status: JobStatusResponse; outcome: Outcome };

/** A finished registration: what its document is made of, plus how the wait ended and the warnings. */
export interface RegistrationResult extends DocumentSource {
  timedOut: boolean;
  warnings: SelfieReport[];
}

export interface RegistrationDeps {
  client: SmileClient;
  environment: Environment;
  signal: AbortSignal;
  onEvent?: (event: RegistrationEvent) => void | Promise<void>;
  /** The selfie loader of src/selfie (check + prepare in one read); injected so bulk can share a pool. */
  loadSelfie: (
    path: string,
    options: { kind: 'selfie' | 'liveness'; skipFaceCheck?: boolean },
  ) => Promise<{ report: SelfieReport; jpeg?: Buffer }>;
}

/** The partner_params sent for a request: extra params first so user_id/job_id/job_type always win. */
export function buildPartnerParams(request: RegistrationRequest): PartnerParams {
  return {
    ...request.params,
    ...(request.sandboxResult === undefined ? {} : { sandbox_result: request.sandboxResult }),
    user_id: request.userId,
    job_id: request.jobId,
    job_type: 4,
  };
}

/**
 * Check and prepare every image before anything is sent; an error in any file stops here
 * with exit 4 and the findings, so nothing is submitted for it.
 */
export async function loadImages(
  request: RegistrationRequest,
  deps: Pick<RegistrationDeps, 'loadSelfie'>,
): Promise<{ selfie?: Buffer; liveness: Buffer[]; reports: SelfieReport[] }> {
  const jobs: Promise<{ report: SelfieReport; jpeg?: Buffer }>[] = [];
  if (request.selfiePath) jobs.push(deps.loadSelfie(request.selfiePath, { kind: 'selfie' }));
  for (const path of request.livenessPaths ?? []) jobs.push(deps.loadSelfie(path, { kind: 'liveness' }));
  const loaded = await Promise.all(jobs);
  const reports = loaded.map((item) => item.report);
  const failed = reports.filter((report) => !report.ok);
  if (failed.length > 0) {
    const first = failed[0]!;
    const firstError = first.findings.find((finding) => finding.severity === 'error');
    const reason = (firstError?.message ?? 'the image failed its checks').replace(/\.$/, '');
    throw new InputError(
      `${printable(first.path)}: ${reason}${failed.length > 1 ? ` (and ${failed.length - 1} more file(s))` : ''}. Nothing was sent.`,
      {
        code: firstError?.code ?? 'selfie_invalid',
        hint: 'Run `smile selfie check FILE` for every finding; fix or replace the image and run again.',
        details: { files: reports },
      },
    );
  }
  const images = loaded.map((item) => item.jpeg!);
  return request.selfiePath
    ? { selfie: images[0]!, liveness: images.slice(1), reports }
    : { liveness: images, reports };
}

/**
 * One registration end to end: check and prepare images → prep upload (2215 recovered with
 * `retry: true`) → zip PUT → optionally poll to a result.
 * `resume` sends the first prep upload with `retry: true` (a job whose upload may have landed).
 */
export async function runRegistration(
  request: RegistrationRequest,
  deps: RegistrationDeps,
  options: { resume?: boolean } = {},
): Promise<RegistrationResult> {
  const images = await loadImages(request, deps);
  await deps.onEvent?.({ type: 'checked', reports: images.reports });
  const warnings = images.reports.filter((report) => report.findings.length > 0);

  const partnerParams = buildPartnerParams(request);
  let deadline: number | undefined;
  if (request.wholeTimeout) {
    await loadAnswerChecks();
    deadline = Date.now() + request.timeoutMs;
  }
  await deps.onEvent?.({ type: 'prep-upload', jobId: request.jobId });
  const prepared = await deps.client.prepUpload(
    {
      partnerParams,
      callbackUrl: request.callbackUrl,
      allowNewEnroll: request.allowReEnroll === true,
      useEnrolledImage: request.useEnrolledImage === true,
      geo: request.geo,
    },
    { signal: deps.signal, deadline, ...(options.resume ? { retry: true } : {}) },
  );
  const smileJobId = prepared.response.smile_job_id;
  await deps.onEvent?.({ type: 'prepared', jobId: request.jobId, smileJobId, retried: prepared.retried });

  const zip = buildJobZip({
    partnerId: deps.client.partnerId,
    timestamp: prepared.timestamp,
    signature: prepared.signature,
    partnerParams,
    callbackUrl: request.callbackUrl,
    geo: request.geo,
    retry: prepared.retried,
    selfie: images.selfie,
    liveness: images.liveness,
    server: prepared.response,
  });
  await deps.client.uploadZip(prepared.response.upload_url, zip, { signal: deps.signal, deadline });
  await deps.onEvent?.({ type: 'uploaded', jobId: request.jobId, smileJobId });

  const faceCheck = request.selfiePath ? (images.reports[0]?.face_check ?? undefined) : undefined;
  const base = {
    environment: deps.environment,
    userId: request.userId,
    jobId: request.jobId,
    smileJobId,
    warnings,
    livenessFrames: images.liveness.length,
    ...(faceCheck ? { faceCheck } : {}),
  };
  if (!request.wait) return { ...base, outcome: 'submitted', status: undefined, timedOut: false };
  const job = { userId: request.userId, jobId: request.jobId };
  if (deadline === undefined) return { ...base, ...(await waitForRegistration(job, request.timeoutMs, deps)) };
  try {
    return { ...base, ...(await waitForRegistration(job, Math.max(0, deadline - Date.now()), deps, { deadline })) };
  } catch (error) {
    // The zip landed; job_status never answered before the deadline: not final, as a pending wait is.
    if (isDeadlineError(error)) return { ...base, outcome: 'pending', status: undefined, timedOut: true };
    throw error;
  }
}

/** The client's "the command's deadline ran out" (ApiError code `deadline`). */
export function isDeadlineError(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 'deadline';
}

/**
 * Poll an uploaded job to its result (shared by register, status --wait and bulk). With
 * `deadline` every job_status request is bounded by it too (see pollJobUntilFinal).
 */
export async function waitForRegistration(
  job: JobStatusInput,
  timeoutMs: number,
  deps: Pick<RegistrationDeps, 'client' | 'signal' | 'onEvent'>,
  options: { immediate?: boolean; deadline?: number | undefined } = {},
): Promise<{ outcome: Outcome; status: JobStatusResponse; timedOut: boolean }> {
  const waited = await pollJobUntilFinal(deps.client, job, {
    timeoutMs,
    signal: deps.signal,
    ...(options.immediate ? { immediate: true } : {}),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    onPoll: (status, outcome) => void deps.onEvent?.({ type: 'poll', status, outcome }),
  });
  return { outcome: waited.outcome, status: waited.status, timedOut: waited.timedOut };
}
