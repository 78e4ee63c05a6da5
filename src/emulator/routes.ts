/** The emulator's endpoints as functions from a parsed request to a reply (smile-api.md §3, §5, §10, §11). */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { signRequest, verifySignature } from '../smile/sign.js';
import type { JobStatusResponse, PrepUploadResponse } from '../smile/types.js';
import type { EmulatorContext } from './context.js';
import { jsonReply, s3Error, smileError, type Reply } from './http.js';
import { acceptZip, settleJob } from './lifecycle.js';
import type { EmulatorGeolocation, EmulatorJob } from './state.js';

/** Pre-signed upload URLs live this long (the real expiry is UNVERIFIED). */
const UPLOAD_URL_TTL_SECONDS = 3600;
export const UPLOAD_PATH_PREFIX = '/_uploads/';
export const RESULT_PATH_PREFIX = '/_results/';

const TEXT = {
  2203: 'Invalid JSON',
  2204: 'A parameter is of the wrong data type',
  2205: 'You are not authorized to do that',
  2209: 'Wrong user id. This user is already enrolled with user_id',
  2210: 'No enrolled user found',
  2212: 'Invalid job type',
  2213: 'A required parameter is missing',
  2215: 'Job already exists. Did you mean to set the retry flag?',
  2216: 'Enrolled user does not have a photo on file',
} as const;

/**
 * UNVERIFIED: job_status for a job the emulator does not know (or whose user_id differs). No source
 * gives the real answer; the emulator invents HTTP 404 with code "2303" so clients can tell it from
 * other errors.
 */
export const JOB_NOT_FOUND = { status: 404, code: '2303', error: 'Job not found' } as const;

const missing = (field: string): Reply => smileError(400, '2213', `${TEXT[2213]}: ${field}`);
const wrongType = (field: string): Reply => smileError(400, '2204', `${TEXT[2204]}: ${field}`);
// 2205 and its text are documented (docs.usesmileid.com/further-reading/result-codes/error-codes);
// UNVERIFIED: the HTTP status. No source gives it (SDK test fixtures answer 2205 with 400); the
// emulator answers 401.
const unauthorized = (): Reply => smileError(401, '2205', TEXT[2205]);

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

/** A required non-empty string field, or the 2213/2204 reply. */
function requiredString(obj: Record<string, unknown>, key: string, label = key): string | Reply {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return missing(label);
  if (typeof value !== 'string') return wrongType(label);
  return value;
}

/** Boolean flags: true/false, or the strings "true"/"false" older mobile SDKs sent; absent/null = false. */
function flag(obj: Record<string, unknown>, key: string): boolean | Reply {
  const value = obj[key];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return wrongType(key);
}

/** Checks presence and types of the signing fields, then partner id, timestamp window and HMAC (§2.1). */
function authorize(
  ctx: EmulatorContext,
  body: Record<string, unknown>,
  partnerField: 'smile_client_id' | 'partner_id',
): Reply | null {
  const partnerId = requiredString(body, partnerField);
  if (isReply(partnerId)) return partnerId;
  const signature = requiredString(body, 'signature');
  if (isReply(signature)) return signature;
  const timestamp = requiredString(body, 'timestamp');
  if (isReply(timestamp)) return timestamp;
  if (partnerId !== ctx.partnerId) return unauthorized();
  const when = Date.parse(timestamp);
  if (Number.isNaN(when) || Math.abs(ctx.now() - when) > ctx.timestampWindowMs) return unauthorized();
  return verifySignature(ctx.apiKey, partnerId, timestamp, signature) ? null : unauthorized();
}

function uploadSignature(ctx: EmulatorContext, path: string, expires: string): string {
  return createHmac('sha256', ctx.state.secret).update(`PUT\n${path}\n${expires}`).digest('base64url');
}

function uploadUrl(ctx: EmulatorContext, refId: string): string {
  const path = `${UPLOAD_PATH_PREFIX}${refId}/selfie.zip`;
  const expires = String(Math.floor(ctx.now() / 1000) + UPLOAD_URL_TTL_SECONDS);
  return `${ctx.origin}${path}?Expires=${expires}&Signature=${encodeURIComponent(uploadSignature(ctx, path, expires))}`;
}

function newRefId(ctx: EmulatorContext, smileJobId: string): string {
  return `${ctx.partnerId}-${smileJobId}-${randomBytes(15).toString('hex')}`;
}

function withoutSignature(body: Record<string, unknown>): Record<string, unknown> {
  const { signature: _signature, ...rest } = body;
  return structuredClone(rest);
}

function prepUploadReply(job: EmulatorJob, url: string, refId: string): Reply {
  const response: PrepUploadResponse = {
    upload_url: url,
    ref_id: refId,
    smile_job_id: job.smileJobId,
    camera_config: 'null',
    code: '2202',
  };
  return jsonReply(200, response);
}

/**
 * The prep upload's `geolocation` metadatum, as smileidentity/android sends it (PrepUpload.kt
 * `metadata: List<Metadatum>?`, LocationMetadata.kt: value {latitude, longitude, accuracy, source}
 * plus the metadatum's timestamp), or null. UNVERIFIED: how the server treats a malformed or absent
 * metadata array; the emulator ignores what it cannot read (and any `geo_info` key) and never refuses.
 */
function geolocationOf(metadata: unknown): EmulatorGeolocation | null {
  if (!Array.isArray(metadata)) return null;
  for (const item of metadata) {
    if (item === null || typeof item !== 'object') continue;
    const { name, value, timestamp } = item as Record<string, unknown>;
    if (name !== 'geolocation' || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const { latitude, longitude, accuracy, source } = value as Record<string, unknown>;
    if (typeof latitude !== 'number' || typeof longitude !== 'number') continue;
    return {
      latitude,
      longitude,
      accuracy: typeof accuracy === 'string' ? accuracy : 'unknown',
      source: typeof source === 'string' ? source : 'unknown',
      timestamp: typeof timestamp === 'string' ? timestamp : '',
    };
  }
  return null;
}

/**
 * Fields the REST docs mark Required for `POST /v1/upload`: `source_sdk` ("rest_api"),
 * `source_sdk_version` ("1.0.0") and `file_name` ("name of the zip file that will be uploaded")
 * (docs.usesmileid.com/products/for-individuals-kyc/biometric-authentication, "Make a Job Request";
 * same table at docs.smileidentity.com/products/biometric-authentication). Missing → 2213 "A required
 * parameter is missing", not a string → 2204 (error-codes page). UNVERIFIED: the HTTP status (400).
 */
const DOCUMENTED_REQUIRED = ['source_sdk', 'source_sdk_version', 'file_name'] as const;

/** `POST /v1/upload` (§3.2, §3.3, §6.4, §6.5). */
export function handlePrepUpload(ctx: EmulatorContext, body: Record<string, unknown>): Reply {
  const denied = authorize(ctx, body, 'smile_client_id');
  if (denied) return denied;
  for (const field of DOCUMENTED_REQUIRED) {
    const value = requiredString(body, field);
    if (isReply(value)) return value;
  }

  const params = body.partner_params;
  if (params === undefined || params === null) return missing('partner_params');
  if (typeof params !== 'object' || Array.isArray(params)) return wrongType('partner_params');
  const pp = params as Record<string, unknown>;
  const userId = requiredString(pp, 'user_id', 'partner_params.user_id');
  if (isReply(userId)) return userId;
  const jobId = requiredString(pp, 'job_id', 'partner_params.job_id');
  if (isReply(jobId)) return jobId;
  const rawJobType = pp.job_type;
  if (rawJobType === undefined || rawJobType === null || rawJobType === '') return missing('partner_params.job_type');
  // An integer on the wire (docs); a digit string is tolerated, since results echo it as one.
  const jobType =
    typeof rawJobType === 'number' && Number.isInteger(rawJobType)
      ? rawJobType
      : typeof rawJobType === 'string' && /^\d+$/.test(rawJobType)
        ? Number(rawJobType)
        : null;
  if (jobType === null) return wrongType('partner_params.job_type');

  // Extra keys "must be strings", are echoed back, and "Any strings of length 0 will be replaced by
  // "null". Null values in the JSON will be rejected with an error."
  // (docs.usesmileid.com/further-reading/faqs/what-are-partner_params). Anything but a string is
  // refused with 2204 "A parameter is of the wrong data type" (error-codes page); that the real
  // server uses 2204 here rather than another code is UNVERIFIED.
  const partnerParams: Record<string, string> = { job_id: jobId, user_id: userId, job_type: String(jobType) };
  for (const [key, value] of Object.entries(pp)) {
    if (key === 'job_id' || key === 'user_id' || key === 'job_type') continue;
    if (typeof value === 'string') partnerParams[key] = value === '' ? 'null' : value;
    else return wrongType(`partner_params.${key}`);
  }

  const callback = body.callback_url;
  if (callback !== undefined && callback !== null && typeof callback !== 'string') return wrongType('callback_url');
  const allowNewEnroll = flag(body, 'allow_new_enroll');
  if (isReply(allowNewEnroll)) return allowNewEnroll;
  const retry = flag(body, 'retry');
  if (isReply(retry)) return retry;
  const useEnrolledImage = flag(body, 'use_enrolled_image');
  if (isReply(useEnrolledImage)) return useEnrolledImage;

  if (jobType !== 4 && jobType !== 2) return smileError(400, '2212', TEXT[2212]);

  const existing = ctx.state.jobs.get(jobId);
  if (existing) {
    // retry:true recovers a job whose zip never arrived: a fresh URL for the same Smile job
    // (smileidentity/android PR #411, CHANGELOG 10.2.7). UNVERIFIED: the answer to retry:true after
    // the zip has landed; the emulator answers 2215 again.
    if (retry && !existing.zip && existing.userId === userId && existing.jobType === jobType) {
      const refId = newRefId(ctx, existing.smileJobId);
      ctx.state.addRef(existing, refId);
      existing.prepUploads.push(withoutSignature(body));
      ctx.state.changed();
      return prepUploadReply(existing, uploadUrl(ctx, refId), refId);
    }
    return smileError(400, '2215', TEXT[2215]);
  }
  const enrolled = ctx.state.isEnrolled(userId);
  if (jobType === 4 && enrolled && !allowNewEnroll) return smileError(400, '2209', TEXT[2209]);
  if (jobType === 2 && !enrolled) return smileError(400, '2210', TEXT[2210]);
  // use_enrolled_image needs a selfie on file: 2216 "Enrolled user does not have a photo on file"
  // (error-codes page; docs image-types FAQ). For job_type 4 smile sends it to replace that selfie
  // with the new one the zip carries (a selfie-less job_type 4 zip is judged 0001, lifecycle.ts);
  // UNVERIFIED: that the real server answers 2216 for a job_type 4 with no selfie on file.
  if (useEnrolledImage && !enrolled) return smileError(400, '2216', TEXT[2216]);

  const smileJobId = ctx.state.nextSmileJobId();
  const refId = newRefId(ctx, smileJobId);
  const job: EmulatorJob = {
    jobId,
    userId,
    jobType,
    smileJobId,
    refIds: [refId],
    createdAt: new Date(ctx.now()).toISOString(),
    partnerParams,
    sandboxResult: partnerParams.sandbox_result ?? '0',
    callbackUrl: typeof callback === 'string' && callback !== '' ? callback : null,
    allowNewEnroll,
    useEnrolledImage,
    geolocation: geolocationOf(body.metadata),
    prepUploads: [withoutSignature(body)],
    status: 'awaiting_zip',
    zip: null,
    puts: 0,
    readyAt: null,
    reviewAt: null,
    jobComplete: false,
    jobSuccess: false,
    result: null,
    results: [],
  };
  ctx.state.user(userId);
  ctx.state.addJob(job);
  return prepUploadReply(job, uploadUrl(ctx, refId), refId);
}

/** `PUT <upload_url>`: S3-like checks, then the zip is stored and judged (§3.6). */
export function handleZipPut(
  ctx: EmulatorContext,
  path: string,
  query: URLSearchParams,
  contentType: string | undefined,
  bytes: Uint8Array,
): Reply {
  const match = /^\/_uploads\/([^/]+)\/[^/]+$/.exec(path);
  const job = match?.[1] === undefined ? undefined : ctx.state.jobByRef(match[1]);
  if (!job) return s3Error(403, 'AccessDenied', 'Access Denied');
  const expires = query.get('Expires') ?? '';
  const signature = query.get('Signature') ?? '';
  const expected = Buffer.from(uploadSignature(ctx, path, expires));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return s3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  if (!/^\d+$/.test(expires) || Number(expires) * 1000 < ctx.now())
    return s3Error(403, 'AccessDenied', 'Request has expired');
  // The real URL signs Content-Type=application/zip; anything else fails the S3 signature check.
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/zip') {
    return s3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  }
  acceptZip(ctx, job, bytes);
  return { status: 200, headers: { etag: `"${createHash('md5').update(bytes).digest('hex')}"` }, body: '' };
}

/** `POST /v1/job_status` (§5): every answer signed with a fresh timestamp. */
export function handleJobStatus(ctx: EmulatorContext, body: Record<string, unknown>): Reply {
  const denied = authorize(ctx, body, 'partner_id');
  if (denied) return denied;
  const userId = requiredString(body, 'user_id');
  if (isReply(userId)) return userId;
  const jobId = requiredString(body, 'job_id');
  if (isReply(jobId)) return jobId;
  const wantImages = flag(body, 'image_links');
  if (isReply(wantImages)) return wantImages;
  const wantHistory = flag(body, 'history');
  if (isReply(wantHistory)) return wantHistory;

  const job = ctx.state.jobs.get(jobId);
  if (!job || job.userId !== userId) return smileError(JOB_NOT_FOUND.status, JOB_NOT_FOUND.code, JOB_NOT_FOUND.error);
  settleJob(ctx, job);

  const timestamp = new Date(ctx.now()).toISOString();
  const response: JobStatusResponse = {
    timestamp,
    signature: signRequest(ctx.apiKey, ctx.partnerId, timestamp),
    job_complete: false,
    job_success: false,
    code: '2302',
  };
  if (!job.zip) {
    response.code = '2314';
    response.result = 'No zip file received';
  } else if (!job.result) {
    // Zip received, still processing: code and null result are UNVERIFIED choices.
    response.result = null;
  } else {
    response.job_complete = job.jobComplete;
    response.job_success = job.jobSuccess;
    response.result = job.result;
  }
  if (wantHistory) response.history = ctx.state.historyOf(userId);
  if (wantImages) {
    const refId = job.refIds[0];
    response.image_links =
      ctx.state.selfies.has(job.jobId) && refId !== undefined
        ? { selfie_image: `${ctx.origin}${RESULT_PATH_PREFIX}${refId}/selfie.jpg` }
        : { error: job.zip ? 'No usable selfie image in this job' : 'No zip file received' };
  }
  return jsonReply(200, response);
}

/** `GET /_results/<ref_id>/selfie.jpg`: the stored selfie, like the S3 link job_status gives out. */
export function handleSelfieImage(ctx: EmulatorContext, path: string): Reply {
  const match = /^\/_results\/([^/]+)\/selfie\.jpg$/.exec(path);
  const job = match?.[1] === undefined ? undefined : ctx.state.jobByRef(match[1]);
  const bytes = job ? ctx.state.selfieOf(job.jobId) : undefined;
  if (!bytes) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  return { status: 200, headers: { 'content-type': 'image/jpeg' }, body: bytes };
}

/** `GET /v1/services` (§10): a small static document of the documented shape. */
export function handleServices(): Reply {
  const nin = {
    required_fields: ['country', 'id_type', 'id_number', 'user_id', 'job_id'],
    label: 'National ID Number',
    test_data: '00000000000',
    id_number_regex: '^[0-9]{11}$',
  };
  return jsonReply(200, {
    bank_codes: [{ name: 'Emulator Bank', code: '000', nip_code: '000000' }],
    id_types: { NG: { NIN_V2: ['country', 'id_type', 'id_number', 'user_id', 'job_id'] } },
    hosted_web: {
      basic_kyc: {},
      biometric_kyc: { NG: { name: 'Nigeria', id_types: { NIN_V2: nin } } },
      enhanced_kyc: {},
      doc_verification: {},
      ekyc_smartselfie: {},
      enhanced_document_verification: {},
    },
  });
}
