import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Smile ID request signature (smile-api.md §2.1):
 * base64(HMAC-SHA256(apiKey, timestamp + partnerId + "sid_request")).
 * The timestamp is signed exactly as given, so it must be the string that travels.
 */
export function signRequest(apiKey: string, partnerId: string, timestamp: string): string {
  return createHmac('sha256', apiKey)
    .update(timestamp, 'utf8')
    .update(partnerId, 'utf8')
    .update('sid_request', 'utf8')
    .digest('base64');
}

/** A fresh `{timestamp, signature}` pair for a request body, timestamp in ISO 8601 UTC with ms. */
export function signedFields(
  apiKey: string,
  partnerId: string,
  now: Date = new Date(),
): { timestamp: string; signature: string } {
  const timestamp = now.toISOString();
  return { timestamp, signature: signRequest(apiKey, partnerId, timestamp) };
}

/** Constant-time check of a signature received from Smile ID (responses, callbacks). */
export function verifySignature(apiKey: string, partnerId: string, timestamp: unknown, signature: unknown): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || timestamp === '' || signature === '')
    return false;
  const expected = Buffer.from(signRequest(apiKey, partnerId, timestamp), 'base64');
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * How far a signed timestamp from Smile ID may be from our clock before the answer is refused
 * (a replayed signature looks like an old one). job_status answers are signed when they are sent,
 * so they get the request window the emulator enforces (±15 min, smile-api.md §2.1); callbacks
 * may queue on Smile ID's side, so the listener takes older ones (its --max-age) but never from
 * further in the future than this.
 */
export const SIGNED_ANSWER_WINDOW_MS = 15 * 60_000;
export const CALLBACK_MAX_AGE_MS = 60 * 60_000;

/**
 * Age of a signed timestamp in ms (negative: from the future), or undefined when it is not a
 * time at all. Accepts ISO 8601 (every SDK) and epoch milliseconds as a string (the Java fixture).
 */
export function signedTimestampAge(timestamp: string, now: number = Date.now()): number | undefined {
  const at = /^\d{12,14}$/.test(timestamp) ? Number(timestamp) : Date.parse(timestamp);
  return Number.isFinite(at) ? now - at : undefined;
}

/** Is a signed timestamp inside the window: at most `maxAgeMs` old and at most `futureMs` ahead. */
export function isFreshSignature(
  timestamp: string,
  options: { maxAgeMs: number; futureMs?: number; now?: number },
): boolean {
  const age = signedTimestampAge(timestamp, options.now);
  return age !== undefined && age <= options.maxAgeMs && -age <= (options.futureMs ?? SIGNED_ANSWER_WINDOW_MS);
}
