/** Small HTTP helpers of the emulator: replies as values, bounded body reading, gzip. */
import type { IncomingMessage } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { readLimited } from '../http/read-limited.js';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** Smile-style error body `{code, error}`. */
export function smileError(status: number, code: string, error: string, headers?: Record<string, string>): Reply {
  return jsonReply(status, { code, error }, headers);
}

/** S3-style XML error, as a pre-signed URL answers. */
export function s3Error(status: number, code: string, message: string): Reply {
  const escape = (text: string): string =>
    text.replace(/[<>&]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&amp;'));
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escape(code)}</Code><Message>${escape(message)}</Message><RequestId>emulator</RequestId></Error>`,
  };
}

export interface ReceivedBody {
  bytes: Buffer;
  /** The body went over the limit; `bytes` is then empty (the rest was drained and dropped). */
  tooLarge: boolean;
}

/** Reads a request body, keeping at most `limit` bytes in memory; past it the rest is drained, then the answer given. */
export async function readBody(req: IncomingMessage, limit: number): Promise<ReceivedBody> {
  const body = await readLimited(req, limit, { overflow: 'drain-then-answer' });
  return body.tooLarge ? { bytes: Buffer.alloc(0), tooLarge: true } : { bytes: body.bytes, tooLarge: false };
}

const MAX_INFLATED_BYTES = 10 * 1024 * 1024;

export type ParsedJson = { ok: true; value: Record<string, unknown> } | { ok: false; reply: Reply };

/** Decodes (gzip/deflate) and parses a JSON object body; anything else becomes a 2203 reply. */
export function parseJsonBody(bytes: Buffer, contentEncoding: string | undefined): ParsedJson {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  let raw: Buffer;
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') raw = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    else if (encoding === 'deflate') raw = inflateSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    else if (encoding === 'identity' || encoding === '') raw = bytes;
    else return { ok: false, reply: smileError(400, '2203', `Invalid JSON: unsupported Content-Encoding ${encoding}`) };
  } catch {
    return { ok: false, reply: smileError(400, '2203', `Invalid JSON: the ${encoding} body could not be decoded`) };
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reply: smileError(400, '2203', 'Invalid JSON') };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reply: smileError(400, '2203', 'Invalid JSON: the body must be a JSON object') };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
