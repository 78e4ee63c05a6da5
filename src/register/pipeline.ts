import { ApiError, InputError, UsageError, printable } from '../errors.js';
import type { JobStatusInput, SmileClient } from '../smile/client.js';
import { buildJobZip } from '../smile/package.js';
import { loadAnswerChecks } from '../smile/types.js';
import type { Outcome } from '../smile/outcome.js';
import type { GeoInfo, JobStatusResponse, PartnerParams } from '../smile/types.js';
import type { SelfieReport } from '../selfie/check.js';
import { pollJobUntilFinal } from './wait.js';
import type { PollTimes } from './schedule.js';

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
  /**
   * --use-enrolled-image: replace the selfie on file of an enrolled user with the new one. Sent as
   * `use_enrolled_image: true` with `allow_new_enroll: true`; a selfie always travels (see below).
   */
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

/**
 * A warning about the registration as a whole rather than one file; shown like the selfie warnings
 * (register: stderr; bulk: its code in the row's `warnings`).
 */
export interface RegistrationNotice {
  code: 'liveness_frame_count' | 'altitude_not_sent';
  message: string;
}

/**
 * How many liveness frames Smile ID's own clients send: 6 to 8. smileidentity/android 4e32f726
 * SmartSelfieEnhancedViewModel.kt `NUM_LIVENESS_IMAGES = 8` (7 in the classic SelfieViewModel.kt);
 * smileidentity/ios 8893ea07 EnhancedSmartSelfieViewModel.swift `numLivenessImages = 6`; the v3
 * registration of smileidentity/smileid-sdk-js 8192a9b (README) takes 6–8. What the v1 server does
 * with another count is UNVERIFIED: smile warns and sends them. No frames at all is not warned
 * about: the docs call liveness images optional for job_type 4 (smile-api.md §4.1).
 */
export const LIVENESS_FRAMES = { min: 6, max: 8 } as const;

/** The registration-level warnings of a request with `frames` liveness frames. */
export function registrationNotices(request: RegistrationRequest, frames: number): RegistrationNotice[] {
  const notices: RegistrationNotice[] = [];
  if (frames > 0 && (frames < LIVENESS_FRAMES.min || frames > LIVENESS_FRAMES.max)) {
    notices.push({
      code: 'liveness_frame_count',
      message: `${frames} liveness frame${frames === 1 ? '' : 's'}: Smile ID's mobile SDKs send ${LIVENESS_FRAMES.min}–${LIVENESS_FRAMES.max}; sent as given.`,
    });
  }
  if (request.geo?.altitude !== undefined) {
    notices.push({
      code: 'altitude_not_sent',
      message: `altitude ${request.geo.altitude} m is not sent: Smile ID's clients send latitude and longitude only.`,
    });
  }
  return notices;
}

/** Progress of one registration; bulk journals these, the CLI prints them. */
export type RegistrationEvent =
  | { type: 'checked'; reports: SelfieReport[]; notices: RegistrationNotice[] }
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
  /** How long jobs take on this server, learned and added to by the wait (none: the cold schedule). */
  pollTimes?: PollTimes | undefined;
  /** `--interval`: a fixed time between job_status looks instead of the schedule. */
  pollIntervalMs?: number | undefined;
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
): Promise<{ selfie: Buffer; liveness: Buffer[]; reports: SelfieReport[]; notices: RegistrationNotice[] }> {
  // Every official SDK refuses a job_type 4 without a selfie on the client ("You need to send
  // through at least one selfie image": smile-identity-core-js aef10c7 src/web-api.ts validateImages;
  // smile-identity-core-python e61c831 smile_id_core/image_upload.py validate_images). The flags and
  // bulk rows are refused before this; this is the last guard.
  if (!request.selfiePath)
    throw new UsageError('A registration needs a selfie: nothing was sent.', {
      hint: 'Pass --selfie FILE (or --capture). --use-enrolled-image replaces the selfie on file with that new one.',
    });
  const jobs: Promise<{ report: SelfieReport; jpeg?: Buffer }>[] = [];
  jobs.push(deps.loadSelfie(request.selfiePath, { kind: 'selfie' }));
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
  const liveness = images.slice(1);
  return { selfie: images[0]!, liveness, reports, notices: registrationNotices(request, liveness.length) };
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
  // While the images are checked (libvips and the face detector), load what the first request needs;
  // nothing is sent before the checks pass.
  const warm = deps.client.warmUp();
  const images = await loadImages(request, deps);
  await deps.onEvent?.({ type: 'checked', reports: images.reports, notices: images.notices });
  const warnings = images.reports.filter((report) => report.findings.length > 0);

  const partnerParams = buildPartnerParams(request);
  let deadline: number | undefined;
  if (request.wholeTimeout) {
    // The answer checks are loaded before the --timeout clock starts (warmUp loads them).
    await Promise.all([warm, loadAnswerChecks()]);
    deadline = Date.now() + request.timeoutMs;
  }
  await deps.onEvent?.({ type: 'prep-upload', jobId: request.jobId });
  const prepared = await deps.client.prepUpload(
    {
      partnerParams,
      callbackUrl: request.callbackUrl,
      // Replacing the selfie on file of an enrolled user is a re-enrolment (2209 without the flag).
      allowNewEnroll: request.allowReEnroll === true || request.useEnrolledImage === true,
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
    retry: prepared.retried,
    selfie: images.selfie,
    liveness: images.liveness,
    server: prepared.response,
  });
  await deps.client.uploadZip(prepared.response.upload_url, zip, { signal: deps.signal, deadline });
  await deps.onEvent?.({ type: 'uploaded', jobId: request.jobId, smileJobId });

  const faceCheck = images.reports[0]?.face_check ?? undefined;
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
  deps: Pick<RegistrationDeps, 'client' | 'signal' | 'onEvent' | 'pollTimes' | 'pollIntervalMs'>,
  options: { immediate?: boolean; deadline?: number | undefined } = {},
): Promise<{ outcome: Outcome; status: JobStatusResponse; timedOut: boolean }> {
  const waited = await pollJobUntilFinal(deps.client, job, {
    timeoutMs,
    signal: deps.signal,
    ...(deps.pollTimes ? { times: deps.pollTimes } : {}),
    ...(deps.pollIntervalMs === undefined ? {} : { intervalMs: deps.pollIntervalMs }),
    ...(options.immediate ? { immediate: true } : {}),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    onPoll: (status, outcome) => void deps.onEvent?.({ type: 'poll', status, outcome }),
  });
  return { outcome: waited.outcome, status: waited.status, timedOut: waited.timedOut };
}
