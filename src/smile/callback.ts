/**
 * Smile ID's callbacks (smile-api.md §7), as a protocol: is a body signed with the key, is its
 * signature young enough to be taken, and what outcome does its result mean. Pure: no I/O.
 */
import { deriveOutcome } from './outcome.js';
import type { Outcome } from './outcome.js';
import { CALLBACK_MAX_AGE_MS, SIGNED_ANSWER_WINDOW_MS, signedTimestampAge, verifySignature } from './sign.js';
import type { ResultObject } from './types.js';

/** Largest callback body accepted (a result object is a few KB; 2 MB leaves room for FullData). */
export const MAX_CALLBACK_BYTES = 2 * 1024 * 1024;

/** Why a body is not taken as a callback from Smile ID. */
export type CallbackRefusal =
  | 'not_json'
  | 'not_object'
  | 'missing_signature'
  | 'bad_signature'
  | 'stale_signature'
  | 'future_signature'
  | 'bad_timestamp';

export type CallbackVerdict =
  | {
      ok: true;
      outcome: Outcome;
      /** job_success as job_status would say it (callbackJobSuccess). */
      jobSuccess: boolean;
      timestamp: string;
      signature: string;
      /** The body without timestamp and signature: the result object. */
      result: ResultObject;
      /** PartnerParams user_id / job_id / the SmileJobID as the body gives them (text), if it does. */
      userId: string | undefined;
      jobId: string | undefined;
      smileJobId: string | undefined;
      warnings: string[];
    }
  | { ok: false; reason: 'not_json' | 'not_object' | 'missing_signature' | 'bad_signature'; message: string }
  | {
      ok: false;
      reason: 'stale_signature' | 'future_signature' | 'bad_timestamp';
      message: string;
      /** How old the signed timestamp is (negative: from the future); undefined when it is not a time. */
      ageMs: number | undefined;
      /** user_id / job_id as the (signed, but not body-covering) callback claims them, for the next step. */
      userId: string | undefined;
      jobId: string | undefined;
    };

export type VerifiedCallback = Extract<CallbackVerdict, { ok: true }>;

/** How long after signing a callback is taken, and how far ahead of our clock it may be signed. */
export interface CallbackWindow {
  /** Oldest signed timestamp taken, in ms (default CALLBACK_MAX_AGE_MS; `--max-age`). */
  maxAgeMs: number;
  /** Furthest into the future, in ms (SIGNED_ANSWER_WINDOW_MS: more means a wrong clock). */
  futureMs: number;
  now?: number;
}

export const DEFAULT_CALLBACK_WINDOW: CallbackWindow = {
  maxAgeMs: CALLBACK_MAX_AGE_MS,
  futureMs: SIGNED_ANSWER_WINDOW_MS,
};

/** The default window, with `--max-age` when one was given. */
export function callbackWindow(maxAgeMs: number | undefined): CallbackWindow {
  return { ...DEFAULT_CALLBACK_WINDOW, ...(maxAgeMs === undefined ? {} : { maxAgeMs }) };
}

/** Action values of `Register_Selfie` that mean the selfie is now on file for the user. */
const REGISTERED = new Set(['approved', 'passed']);

/**
 * A callback body is the result object plus `timestamp` and `signature` (smile-api.md §7); it has
 * no `job_complete`/`job_success`. The rule used here, so that a callback reads exactly as the
 * job_status of the same moment would:
 * - `job_complete` is true: Smile ID calls back once a result exists;
 * - `job_success` is true when `Actions.Register_Selfie` (the job_type 4 action that says the
 *   selfie is on file) is "Approved" (or "Passed") and `IsFinalResult` is not "false" —
 *   "Provisionally Approved" is not success;
 * - then deriveOutcome, as for job_status: success → approved; an action under review or
 *   `IsFinalResult` "false" → provisional; anything else → rejected.
 * No result code is looked up: product.md derives outcomes from job_success and Actions.
 */
export function callbackJobSuccess(result: ResultObject): boolean {
  const registered = result.Actions?.['Register_Selfie'];
  return (
    typeof registered === 'string' &&
    REGISTERED.has(registered.trim().toLowerCase()) &&
    String(result.IsFinalResult).toLowerCase() !== 'false'
  );
}

/** The outcome of a callback's result object, as job_status of the same moment would give it. */
export function callbackOutcome(result: ResultObject): Outcome {
  return deriveOutcome({ job_complete: true, job_success: callbackJobSuccess(result), result });
}

/**
 * Verify a callback body against the key it must be signed with. The HMAC (§2.1) covers only
 * `timestamp` + partner id: it proves the sender holds the key, not that the body is unchanged,
 * so a captured body could be replayed for ever; the signed timestamp must therefore be inside
 * `window` (at most maxAgeMs old, at most futureMs ahead).
 */
export function verifyCallbackBody(
  text: string,
  key: { apiKey: string; partnerId: string },
  window: CallbackWindow = DEFAULT_CALLBACK_WINDOW,
): CallbackVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json', message: 'the body is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      ok: false,
      reason: 'not_object',
      message: 'the body is not a JSON object (a callback is the result object plus timestamp and signature)',
    };
  }
  const { signature, timestamp, ...result } = parsed as Record<string, unknown>;
  if (typeof signature !== 'string' || signature === '' || typeof timestamp !== 'string' || timestamp === '') {
    return {
      ok: false,
      reason: 'missing_signature',
      message: `the body has no ${typeof signature === 'string' && signature !== '' ? 'timestamp' : 'signature'}: it cannot be shown to come from Smile ID`,
    };
  }
  if (!verifySignature(key.apiKey, key.partnerId, timestamp, signature)) {
    return {
      ok: false,
      reason: 'bad_signature',
      message: `the signature does not verify with the API key of partner ${key.partnerId}`,
    };
  }
  const object = result as ResultObject;
  const params = (
    object.PartnerParams !== null && typeof object.PartnerParams === 'object' ? object.PartnerParams : {}
  ) as Record<string, unknown>;
  const userId = asText(params['user_id']);
  const jobId = asText(params['job_id']);
  const stale = checkWindow(timestamp, window);
  if (stale) return { ok: false, ...stale, userId, jobId };
  const warnings: string[] = [];
  const jobType = asText(params['job_type']);
  if (jobType !== undefined && jobType !== '4')
    warnings.push(
      `job_type ${jobType}: smile reads job_type 4 (registration) results; the outcome may not fit this job.`,
    );
  if (object.Actions?.['Register_Selfie'] === undefined)
    warnings.push('no Register_Selfie action: the outcome is read from the other Actions only.');
  return {
    ok: true,
    outcome: callbackOutcome(object),
    jobSuccess: callbackJobSuccess(object),
    timestamp,
    signature,
    result: object,
    userId,
    jobId,
    smileJobId: asText(object.SmileJobID),
    warnings,
  };
}

function asText(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function checkWindow(
  timestamp: string,
  window: CallbackWindow,
):
  | { reason: 'stale_signature' | 'future_signature' | 'bad_timestamp'; message: string; ageMs: number | undefined }
  | undefined {
  const ageMs = signedTimestampAge(timestamp, window.now);
  const shownAt = printableCallbackText(timestamp, 40);
  if (ageMs === undefined)
    return {
      reason: 'bad_timestamp',
      message: `its signed timestamp "${shownAt}" is not a time, so its age cannot be checked`,
      ageMs,
    };
  if (ageMs > window.maxAgeMs) {
    return {
      reason: 'stale_signature',
      message: `it was signed ${describeSpan(ageMs)} ago (${shownAt}), longer ago than the ${describeSpan(window.maxAgeMs)} a callback is taken for (--max-age)`,
      ageMs,
    };
  }
  if (-ageMs > window.futureMs) {
    return {
      reason: 'future_signature',
      message: `it is signed ${describeSpan(-ageMs)} in the future (${shownAt}), more than the ${describeSpan(window.futureMs)} allowed: this machine's clock or the sender's is wrong`,
      ageMs,
    };
  }
  return undefined;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "30 days", "5 hours", "1h", "12 min", "40 s": whole units, rounded down. */
export function describeSpan(ms: number): string {
  const whole = (unit: number, one: string, many: string) => {
    const n = Math.floor(ms / unit);
    return `${n} ${n === 1 ? one : many}`;
  };
  if (ms >= 2 * DAY) return whole(DAY, 'day', 'days');
  if (ms >= 2 * HOUR) return whole(HOUR, 'hour', 'hours');
  if (ms === HOUR) return '1h';
  if (ms >= MINUTE) return whole(MINUTE, 'min', 'min');
  return whole(1000, 's', 's');
}

/** A --max-age that takes an age: the next whole day, hour or minute above it. */
export function maxAgeCovering(ageMs: number): string {
  if (ageMs >= DAY) return `${Math.floor(ageMs / DAY) + 1}d`;
  if (ageMs >= HOUR) return `${Math.floor(ageMs / HOUR) + 1}h`;
  return `${Math.floor(ageMs / MINUTE) + 1}m`;
}

/** "machine result, final", "human review result, not final": which result of the job a callback carries. */
export function describeCallbackStage(result: ResultObject): string {
  const machine =
    String(result.IsMachineResult).toLowerCase() === 'true'
      ? 'machine result'
      : String(result.IsMachineResult).toLowerCase() === 'false'
        ? 'human review result'
        : 'result';
  const final = String(result.IsFinalResult).toLowerCase() === 'false' ? 'not final' : 'final';
  return `${machine}, ${final}`;
}

/** Text from a callback body (signed, but the signature does not cover it) fit for a log line: no control characters, bounded. */
export function printableCallbackText(value: string, max = 100): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
