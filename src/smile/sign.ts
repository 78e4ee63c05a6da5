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
export function signedFields(apiKey: string, partnerId: string, now: Date = new Date()): { timestamp: string; signature: string } {
  const timestamp = now.toISOString();
  return { timestamp, signature: signRequest(apiKey, partnerId, timestamp) };
}

/** Constant-time check of a signature received from Smile ID (responses, callbacks). */
export function verifySignature(apiKey: string, partnerId: string, timestamp: unknown, signature: unknown): boolean {
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || timestamp === '' || signature === '') return false;
  const expected = Buffer.from(signRequest(apiKey, partnerId, timestamp), 'base64');
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
