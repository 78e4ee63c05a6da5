import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunContext } from '../context.js';
import { AuthError, ExitCode, InputError, SmileCliError, UsageError } from '../errors.js';
import { syncDirectory, writeFailureReason } from '../fs/durable.js';
import { jsonText } from '../output/output.js';
import { renderResultText } from '../output/result-text.js';
import { registrationDocument } from '../register/document.js';
import type { RegistrationDocument } from '../register/document.js';
import { RedirectRefusedError, fetchWithTimeout } from '../smile/client.js';
import { deriveOutcome, exitCodeForOutcome } from '../smile/outcome.js';
import { sleep } from '../smile/retry.js';
import type { Outcome } from '../smile/outcome.js';
import { CALLBACK_MAX_AGE_MS, SIGNED_ANSWER_WINDOW_MS, signedTimestampAge, verifySignature } from '../smile/sign.js';
import type { JobStatusResponse, ResultObject } from '../smile/types.js';

import { parseDuration } from '../parse.js';

/** Largest callback body accepted (a result object is a few KB; 2 MB leaves room for FullData). */
export const MAX_CALLBACK_BYTES = 2 * 1024 * 1024;
/** Forwarding: one try now and two retries; each attempt bounded. Never delays the answer to Smile ID. */
const FORWARD_DELAYS_MS = [0, 1_000, 3_000];
const FORWARD_TIMEOUT_MS = 10_000;
/** How long `listen` waits for forwards still running when it is stopped. */
const FORWARD_DRAIN_MS = 5_000;
/**
 * Deliveries remembered to answer a repeat 200 without storing it twice. Each is forgotten once
 * its signature would be refused as too old anyway; past this many the oldest go first (a repeat
 * of a forgotten one is then stored again: a duplicate line, never a lost result). ~200 B each.
 */
const MAX_REMEMBERED_DELIVERIES = 100_000;
/** Retry-After (seconds) sent with a 503 while results cannot be written. */
const STORE_RETRY_AFTER_S = 60;

/** The key a callback must be signed with. */
export interface CallbackKey {
  apiKey: string;
  partnerId: string;
  environment: 'sandbox' | 'production';
  /** How the environment is shown ("sandbox", "production", "emulator"). */
  label: string;
}

export type CallbackVerdict =
  | { ok: true; outcome: Outcome; timestamp: string; signature: string; result: ResultObject; document: RegistrationDocument & { signature_verified: boolean; timestamp: string }; warnings: string[] }
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

/** How long after signing a callback is taken, and how far ahead of our clock it may be signed. */
export interface CallbackWindow {
  /** Oldest signed timestamp taken, in ms (default CALLBACK_MAX_AGE_MS; `--max-age`). */
  maxAgeMs: number;
  /** Furthest into the future, in ms (SIGNED_ANSWER_WINDOW_MS: more means a wrong clock). */
  futureMs: number;
  now?: number;
}

export const DEFAULT_CALLBACK_WINDOW: CallbackWindow = { maxAgeMs: CALLBACK_MAX_AGE_MS, futureMs: SIGNED_ANSWER_WINDOW_MS };

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
  return typeof registered === 'string' && REGISTERED.has(registered.trim().toLowerCase()) && String(result.IsFinalResult).toLowerCase() !== 'false';
}

export function callbackOutcome(result: ResultObject): Outcome {
  return deriveOutcome({ job_complete: true, job_success: callbackJobSuccess(result), result });
}

/**
 * Verify a callback body and turn it into register's JSON document. The HMAC (§2.1) covers only
 * `timestamp` + partner id: it proves the sender holds the key, not that the body is unchanged,
 * so a captured body could be replayed for ever; the signed timestamp must therefore be inside
 * `window` (at most maxAgeMs old, at most futureMs ahead).
 */
export function verifyCallbackBody(text: string, key: CallbackKey, window: CallbackWindow = DEFAULT_CALLBACK_WINDOW): CallbackVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not_json', message: 'the body is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, reason: 'not_object', message: 'the body is not a JSON object (a callback is the result object plus timestamp and signature)' };
  }
  const { signature, timestamp, ...result } = parsed as Record<string, unknown>;
  if (typeof signature !== 'string' || signature === '' || typeof timestamp !== 'string' || timestamp === '') {
    return { ok: false, reason: 'missing_signature', message: `the body has no ${typeof signature === 'string' && signature !== '' ? 'timestamp' : 'signature'}: it cannot be shown to come from Smile ID` };
  }
  if (!verifySignature(key.apiKey, key.partnerId, timestamp, signature)) {
    return { ok: false, reason: 'bad_signature', message: `the signature does not verify with the API key of partner ${key.partnerId}` };
  }
  const object = result as ResultObject;
  const params = (object.PartnerParams !== null && typeof object.PartnerParams === 'object' ? object.PartnerParams : {}) as Record<string, unknown>;
  const asText = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
  const stale = checkWindow(timestamp, window);
  if (stale) return { ok: false, ...stale, userId: asText(params['user_id']), jobId: asText(params['job_id']) };
  const outcome = callbackOutcome(object);
  const status: JobStatusResponse = { timestamp, signature: '', job_complete: true, job_success: callbackJobSuccess(object), code: '', result: object };
  const document = {
    ...registrationDocument({ outcome, environment: key.environment, userId: asText(params['user_id']) ?? '', jobId: asText(params['job_id']) ?? '', smileJobId: asText(object.SmileJobID), status }),
    signature_verified: true,
    timestamp,
  };
  const warnings: string[] = [];
  const jobType = asText(params['job_type']);
  if (jobType !== undefined && jobType !== '4') warnings.push(`job_type ${jobType}: smile reads job_type 4 (registration) results; the outcome may not fit this job.`);
  if (object.Actions?.['Register_Selfie'] === undefined) warnings.push('no Register_Selfie action: the outcome is read from the other Actions only.');
  return { ok: true, outcome, timestamp, signature, result: object, document, warnings };
}

function checkWindow(timestamp: string, window: CallbackWindow): { reason: 'stale_signature' | 'future_signature' | 'bad_timestamp'; message: string; ageMs: number | undefined } | undefined {
  const ageMs = signedTimestampAge(timestamp, window.now);
  const shownAt = printable(timestamp, 40);
  if (ageMs === undefined) return { reason: 'bad_timestamp', message: `its signed timestamp "${shownAt}" is not a time, so its age cannot be checked`, ageMs };
  if (ageMs > window.maxAgeMs) {
    return { reason: 'stale_signature', message: `it was signed ${describeSpan(ageMs)} ago (${shownAt}), longer ago than the ${describeSpan(window.maxAgeMs)} a callback is taken for (--max-age)`, ageMs };
  }
  if (-ageMs > window.futureMs) {
    return { reason: 'future_signature', message: `it is signed ${describeSpan(-ageMs)} in the future (${shownAt}), more than the ${describeSpan(window.futureMs)} allowed: this machine's clock or the sender's is wrong`, ageMs };
  }
  return undefined;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "30 days", "5 hours", "1h", "12 min", "40 s": whole units, rounded down. */
function describeSpan(ms: number): string {
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
function maxAgeFor(ageMs: number): string {
  if (ageMs >= DAY) return `${Math.floor(ageMs / DAY) + 1}d`;
  if (ageMs >= HOUR) return `${Math.floor(ageMs / HOUR) + 1}h`;
  return `${Math.floor(ageMs / MINUTE) + 1}m`;
}

/** `--max-age`: a duration as parseDuration takes it (ms, s, m, h), or whole/decimal days (`30d`). */
export function parseMaxAge(value: string): number {
  const days = /^\s*(\d+(?:\.\d+)?)\s*d\s*$/i.exec(value);
  let ms: number;
  try {
    ms = days ? Math.round(Number(days[1]) * DAY) : parseDuration(value, '--max-age');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`--max-age takes a duration like 90m, 24h or 30d, not "${printable(value, 40)}".`, { hint: `The default is ${describeSpan(CALLBACK_MAX_AGE_MS)}; a body saved earlier and checked now needs its age, e.g. --max-age 30d.` });
  }
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--max-age must be longer than 0, not "${printable(value, 40)}".`, { hint: 'To check a body of any age, give a long one, e.g. --max-age 3650d.' });
  return ms;
}

/** Text from a callback body (signed, but the signature does not cover it) fit for a log line: no control characters, bounded. */
function printable(value: string, max = 100): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The key a callback must verify with: the emulator's throwaway key, or flag > env > profile. */
async function callbackKey(ctx: RunContext): Promise<CallbackKey> {
  if (ctx.globals.emulator) {
    if (ctx.globals.env === 'production') throw new UsageError('--emulator and --env production do not go together.', { hint: 'Drop one of them.' });
    const { DEFAULT_EMULATOR_API_KEY, DEFAULT_PARTNER_ID } = await import('../emulator/index.js');
    return { apiKey: DEFAULT_EMULATOR_API_KEY, partnerId: DEFAULT_PARTNER_ID, environment: 'sandbox', label: 'emulator' };
  }
  const { resolveSettings } = await import('../config/resolve.js');
  const { globals } = ctx;
  const settings = await resolveSettings({
    flags: {
      ...(globals.profile === undefined ? {} : { profile: globals.profile }),
      ...(globals.env === undefined ? {} : { env: globals.env }),
      ...(globals.baseUrl === undefined ? {} : { baseUrl: globals.baseUrl }),
    },
    env: ctx.env,
  });
  return { apiKey: settings.apiKey, partnerId: settings.partnerId, environment: settings.environment, label: settings.environment };
}

function refusal(verdict: Extract<CallbackVerdict, { ok: false }>, key: CallbackKey, file: string): AuthError | InputError {
  if (verdict.reason === 'not_json' || verdict.reason === 'not_object') {
    return new InputError(`Not a callback body: ${verdict.message}.`, { code: verdict.reason, hint: 'Pass the JSON body exactly as Smile ID POSTed it (a file, or - for stdin).' });
  }
  if (verdict.reason === 'stale_signature' || verdict.reason === 'future_signature' || verdict.reason === 'bad_timestamp') {
    const hint =
      verdict.reason === 'stale_signature' && verdict.ageMs !== undefined
        ? `An old signature is what a replayed body looks like. If you saved this body earlier and check it now, widen the window: smile callback verify ${file === '-' ? '-' : quoteArg(file)} --max-age ${maxAgeFor(verdict.ageMs)}`
        : verdict.reason === 'future_signature'
          ? "Check this machine's clock (`smile doctor` compares it with Smile ID's). A body cannot be signed in the future."
          : 'Smile ID signs an ISO 8601 time; this body did not come from it (or was changed).';
    return new AuthError(`The callback is not verified: ${verdict.message}. It is not shown as a result.`, { code: verdict.reason, hint });
  }
  return new AuthError(`The callback is not verified: ${verdict.message}. It is not shown as a result.`, {
    code: verdict.reason,
    hint: verdict.reason === 'missing_signature'
      ? 'Smile ID signs every callback; a body without timestamp and signature did not come from it (or was cut).'
      : `Check that the profile/environment matches the job's (sandbox and production keys differ; now ${key.label}, partner ${key.partnerId}). If they match, the body did not come from Smile ID.`,
  });
}

function quoteArg(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${printable(value, 200).replace(/'/g, "'\\''")}'`;
}

export interface CallbackVerifyOptions {
  /** `--max-age` as given (default CALLBACK_MAX_AGE_MS). */
  maxAge?: string;
}

/** `smile callback verify FILE|-`: verify offline, print the outcome as register does. */
export async function runCallbackVerify(file: string, ctx: RunContext, opts: CallbackVerifyOptions = {}): Promise<number> {
  const window: CallbackWindow = { ...DEFAULT_CALLBACK_WINDOW, ...(opts.maxAge === undefined ? {} : { maxAgeMs: parseMaxAge(opts.maxAge) }) };
  const text = await readCallbackInput(file, ctx);
  const key = await callbackKey(ctx);
  const verdict = verifyCallbackBody(text, key, window);
  if (!verdict.ok) throw refusal(verdict, key, file);
  for (const warning of verdict.warnings) ctx.out.warn(warning);
  const { document } = verdict;
  ctx.out.result(document, () => {
    const card = renderResultText(document, { color: ctx.out.color, environmentLabel: key.label });
    return `${card}\n  ${'callback'.padEnd(9)} signature verified (partner ${key.partnerId}, signed ${verdict.timestamp}) · ${describeStage(verdict.result)}`;
  });
  return exitCodeForOutcome(verdict.outcome);
}

function describeStage(result: ResultObject): string {
  const machine = String(result.IsMachineResult).toLowerCase() === 'true' ? 'machine result' : String(result.IsMachineResult).toLowerCase() === 'false' ? 'human review result' : 'result';
  const final = String(result.IsFinalResult).toLowerCase() === 'false' ? 'not final' : 'final';
  return `${machine}, ${final}`;
}

async function readCallbackInput(file: string, ctx: RunContext): Promise<string> {
  if (file === '-') {
    if (ctx.io.stdin.isTTY) throw new UsageError('callback verify - reads the body from stdin, but stdin is a terminal.', { hint: 'Pipe the body in (`pbpaste | smile callback verify -`), or pass the file holding it.' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.io.stdin as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > MAX_CALLBACK_BYTES) throw new InputError(`stdin holds more than ${MAX_CALLBACK_BYTES / 1024 / 1024} MB: not a callback body.`, { code: 'too_large' });
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  const { promises: fs } = await import('node:fs');
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new InputError(`${file} is not a file.`, { code: 'not_a_file', hint: 'Pass the file holding the callback body, or - for stdin.' });
    if (stat.size > MAX_CALLBACK_BYTES) throw new InputError(`${file} is larger than ${MAX_CALLBACK_BYTES / 1024 / 1024} MB: not a callback body.`, { code: 'too_large' });
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'read error')}.`, { code: 'unreadable', hint: 'Pass the file holding the callback body, or - for stdin.' });
  }
}

export interface CallbackListenOptions {
  port: number;
  host?: string;
  out?: string;
  forward?: string;
  /** `--max-age` as given (default CALLBACK_MAX_AGE_MS). */
  maxAge?: string;
}

/** Disk full or quota used up: room can come back, so the listener answers 503 and waits for it. */
const TRANSIENT_WRITE_ERRORS = new Set(['ENOSPC', 'EDQUOT']);

/** A line of --out that could not be made durable; `transient` failures are waited out, others stop the listener. */
class StoreWriteError extends Error {
  constructor(
    readonly file: string,
    readonly errno: string,
    readonly transient: boolean,
    readonly reason: string,
  ) {
    super(`cannot write to ${file}: ${reason}`);
  }
}

function errnoOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/**
 * The --out file: one JSON line per verified result, appended (O_APPEND, mode 0600). A line is
 * written whole (short writes are continued) and fdatasync'ed before append() resolves. When that
 * fails, whatever part of the line reached the file is cut off again (ftruncate to the size before
 * it), so the file always ends with whole lines and the sender's retry starts on a line of its own.
 * If even that cut fails, the store refuses every later line (it could only be glued to a torn one).
 */
class CallbackStore {
  private chain: Promise<void> = Promise.resolve();
  private broken: StoreWriteError | undefined;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** The file ended with a torn line when opened: the first line written starts with "\n". */
    private needsNewline: boolean,
  ) {}

  static async open(path: string, warn: (line: string) => void): Promise<CallbackStore> {
    const { promises: fs } = await import('node:fs');
    const { dirname } = await import('node:path');
    const info = await fs.stat(path).catch(() => undefined);
    const existed = info !== undefined;
    // Opening a FIFO for writing blocks until someone reads it, and a pipe cannot be flushed to disk
    // (every result would then be answered 503): results go to a file of their own.
    if (info && (info.isFIFO() || info.isDirectory() || info.isSocket())) {
      throw new InputError(`--out ${printable(path)} is not a regular file (${info.isFIFO() ? 'a named pipe' : info.isDirectory() ? 'a directory' : 'a socket'}).`, { code: 'unwritable', hint: 'Pass an --out path for a JSONL file; to follow results live, tail -f that file.' });
    }
    let handle: FileHandle;
    try {
      handle = await fs.open(path, 'a', 0o600);
    } catch (error) {
      throw new InputError(`Cannot open ${path} for appending: ${writeFailureReason(error)}.`, { code: 'unwritable', hint: 'Pass an --out path in a directory you can write to.' });
    }
    let needsNewline = false;
    try {
      const stat = await handle.stat();
      if (stat.isFile() && stat.size > 0) {
        const reader = await fs.open(path, 'r');
        try {
          const { bytesRead, buffer } = await reader.read(Buffer.alloc(1), 0, 1, stat.size - 1);
          needsNewline = bytesRead === 1 && buffer[0] !== 0x0a;
        } finally {
          await reader.close();
        }
      }
    } catch {
      // A tail that cannot be read (a write-only file) is appended to as it is.
    }
    if (needsNewline) warn(`${path} ends with an incomplete line (an earlier crash or full disk?): it is left as it is, and new results start on a new line.`);
    // A new file's directory entry must reach the disk too, or a power cut can lose the whole file.
    if (!existed) syncDirectory(dirname(path));
    return new CallbackStore(path, handle, needsNewline);
  }

  /** Append one line; resolves once it is whole and flushed to disk, rejects with a StoreWriteError. */
  append(line: string): Promise<void> {
    const next = this.chain.then(() => this.write(line));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async write(line: string): Promise<void> {
    if (this.broken) throw this.broken;
    const bytes = Buffer.from(this.needsNewline ? `\n${line}` : line, 'utf8');
    let before = 0;
    let written = 0;
    try {
      before = (await this.handle.stat()).size;
      while (written < bytes.length) {
        // A short write (the disk filled up mid-line) is continued; the next call then reports why.
        const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, null);
        if (bytesWritten <= 0) throw Object.assign(new Error('the write stored nothing'), { code: 'EIO' });
        written += bytesWritten;
      }
      await this.handle.datasync();
    } catch (error) {
      const code = errnoOf(error);
      const failure = new StoreWriteError(this.path, code, TRANSIENT_WRITE_ERRORS.has(code), writeFailureReason(error));
      if (written > 0) {
        try {
          await this.handle.truncate(before);
          await this.handle.datasync();
        } catch (cutError) {
          this.broken = new StoreWriteError(this.path, code, false, `${failure.reason}, and the part of the line already written could not be cut off again (${errnoOf(cutError)})`);
          throw this.broken;
        }
      }
      if (!failure.transient) this.broken = failure;
      throw failure;
    }
    this.needsNewline = false;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.handle.close();
  }
}

/**
 * Deliveries already stored (or being stored), by the fingerprint of their signed body, so that a
 * repeat is answered 200 without a second line. Entries live as long as their signature could
 * still be taken (--max-age + the future window); past MAX_REMEMBERED_DELIVERIES the oldest go.
 */
class DeliveryMemory {
  private readonly entries = new Map<string, { expires: number; stored: Promise<boolean> }>();
  constructor(private readonly keepMs: number) {}

  get(fingerprint: string): Promise<boolean> | undefined {
    const entry = this.entries.get(fingerprint);
    if (entry === undefined) return undefined;
    if (entry.expires > Date.now()) return entry.stored;
    this.entries.delete(fingerprint);
    return undefined;
  }

  add(fingerprint: string, stored: Promise<boolean>): void {
    const now = Date.now();
    // Insertion order is expiry order: drop from the front while expired or over the bound.
    for (const [key, entry] of this.entries) {
      if (entry.expires > now && this.entries.size < MAX_REMEMBERED_DELIVERIES) break;
      this.entries.delete(key);
    }
    this.entries.set(fingerprint, { expires: now + this.keepMs, stored });
  }

  forget(fingerprint: string): void {
    this.entries.delete(fingerprint);
  }
}

/** The same signed body, however it is serialised (key order, spacing), gives the same fingerprint. */
function deliveryFingerprint(verdict: Extract<CallbackVerdict, { ok: true }>): string {
  const body = { ...verdict.result, timestamp: verdict.timestamp, signature: verdict.signature };
  let text: string;
  try {
    text = canonicalJson(body);
  } catch {
    // Nested too deep to walk: the exact text still identifies an exact repeat.
    text = JSON.stringify(body);
  }
  return createHash('sha256').update(text).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** "job J (user U)" as the callback names them, fit for a log line. */
function whoseResult(userId: unknown, jobId: unknown): string {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? printable(value, 80) : '?');
  return `job ${text(jobId)} (user ${text(userId)})`;
}

function statusCommand(userId: string | undefined, jobId: string | undefined): string {
  return userId && jobId ? `smile status --user-id ${quoteArg(userId)} --job-id ${quoteArg(jobId)}` : 'smile status --user-id U --job-id J';
}

/**
 * `smile callback listen`: an HTTP endpoint for Smile ID's callbacks. Each POST (any path) is
 * verified (signature, and its age: --max-age); a verified result is appended to --out whole and
 * fdatasync'ed before the 200, so a crash never loses an acknowledged result. Every result is kept
 * (machine, then human review); only a repeat of the very same signed body is answered 200 without
 * a second line. When a line cannot be written the answer is 503 (the sender retries): a full disk
 * is waited out, any other write failure stops the listener (exit 5) so that it is seen.
 */
export async function runCallbackListen(opts: CallbackListenOptions, ctx: RunContext): Promise<number> {
  const window: CallbackWindow = { ...DEFAULT_CALLBACK_WINDOW, ...(opts.maxAge === undefined ? {} : { maxAgeMs: parseMaxAge(opts.maxAge) }) };
  const key = await callbackKey(ctx);
  const forwardUrl = opts.forward === undefined ? undefined : checkForwardUrl(opts.forward);
  const host = opts.host ?? '127.0.0.1';
  const { createServer } = await import('node:http');

  const store = opts.out === undefined ? undefined : await CallbackStore.open(opts.out, (line) => ctx.out.warn(line));
  const memory = new DeliveryMemory(window.maxAgeMs + window.futureMs);
  const counts = { saved: 0, refused: 0, duplicates: 0, unsaved: 0 };
  /** Set when --out can never be written again: the listener stops and exits 5. */
  let failure: { error: StoreWriteError; who: string; userId: string | undefined; jobId: string | undefined } | undefined;
  let stopListening!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stopListening = resolve;
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });

  const stopForwards = new AbortController();
  const forwards = new Set<Promise<void>>();
  const forward = (body: string, label: string) => {
    if (!forwardUrl) return;
    const task = forwardBody(forwardUrl, body, stopForwards.signal).then(
      (failed) => {
        if (failed) ctx.out.warn(`forward of ${label} to ${forwardUrl} failed ${failed}${store ? ` (it is in ${store.path})` : ''}`);
      },
    );
    forwards.add(task);
    void task.finally(() => forwards.delete(task));
  };

  const unavailable = (res: ServerResponse) => reply(res, 503, { ok: false, error: 'cannot store results now; send it again later' }, { 'retry-after': String(STORE_RETRY_AFTER_S), ...(failure ? { connection: 'close' } : {}) });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const where = `${req.method ?? '?'} ${(req.url ?? '/').split('?')[0]}`;
    if (req.method === 'GET' || req.method === 'HEAD') {
      reply(res, 200, { ok: true, service: 'smile callback listen' });
      return;
    }
    if (req.method !== 'POST') {
      reply(res, 405, { ok: false, error: 'POST the callback body' }, { allow: 'POST, GET' });
      return;
    }
    const body = await readRequestBody(req, MAX_CALLBACK_BYTES);
    if (body === 'too_large') {
      counts.refused += 1;
      ctx.out.warn(`refused ${where}: the body is over ${MAX_CALLBACK_BYTES / 1024 / 1024} MB (413)`);
      reply(res, 413, { ok: false, error: 'body too large' }, { connection: 'close' });
      return;
    }
    const verdict = verifyCallbackBody(body, key, window);
    if (!verdict.ok) {
      counts.refused += 1;
      const status = verdict.reason === 'not_json' || verdict.reason === 'not_object' ? 400 : 401;
      const next =
        verdict.reason === 'stale_signature'
          ? `; a replay looks like this. If it is the genuine result of ${whoseResult(verdict.userId, verdict.jobId)}, read it with \`${statusCommand(verdict.userId, verdict.jobId)}\`, or restart with a wider --max-age`
          : verdict.reason === 'future_signature'
            ? "; check this machine's clock (`smile doctor`)"
            : '';
      ctx.out.warn(`refused ${where}: ${verdict.message}${next} (${status})`);
      reply(res, status, { ok: false, error: verdict.message });
      return;
    }
    const userId = typeof verdict.document['user_id'] === 'string' && verdict.document['user_id'] !== '' ? verdict.document['user_id'] : undefined;
    const jobId = typeof verdict.document['job_id'] === 'string' && verdict.document['job_id'] !== '' ? verdict.document['job_id'] : undefined;
    const who = whoseResult(userId, jobId);

    // A repeat of a body stored (or being stored) is acknowledged, not stored again; if the first
    // copy could not be stored, this one tries.
    const fingerprint = deliveryFingerprint(verdict);
    for (let earlier = memory.get(fingerprint); earlier !== undefined; earlier = memory.get(fingerprint)) {
      if (await earlier) {
        counts.duplicates += 1;
        ctx.out.info(`duplicate delivery of ${who}, signed ${printable(verdict.timestamp, 40)}: answered 200, not stored again`);
        reply(res, 200, { ok: true, duplicate: true });
        return;
      }
    }
    if (failure) {
      unavailable(res);
      return;
    }
    let settle!: (stored: boolean) => void;
    memory.add(
      fingerprint,
      new Promise<boolean>((resolve) => (settle = resolve)),
    );
    const record: Record<string, unknown> = { received_at: new Date().toISOString(), path: (req.url ?? '/').split('?')[0], ...verdict.document };
    try {
      await store?.append(`${jsonText(record)}\n`);
    } catch (error) {
      memory.forget(fingerprint);
      settle(false);
      const problem = error instanceof StoreWriteError ? error : new StoreWriteError(store?.path ?? '--out', errnoOf(error), false, writeFailureReason(error));
      counts.unsaved += 1;
      if (problem.transient) {
        ctx.out.warn(
          `could not save the result of ${who} to ${problem.file}: ${problem.reason}; answered 503 so that Smile ID sends it again (the file still ends with whole lines). ` +
            `Free space on the disk holding ${problem.file}: the listener keeps running and saves results again once there is room.`,
        );
      } else {
        failure ??= { error: problem, who, userId, jobId };
        ctx.out.warn(`could not save the result of ${who} to ${problem.file}: ${problem.reason}; answered 503 so that Smile ID sends it again. Stopping: the file cannot be written any more.`);
        stopListening();
      }
      unavailable(res);
      return;
    }
    settle(true);
    counts.saved += 1;
    reply(res, 200, { ok: true });
    printResult(ctx, record, verdict);
    for (const warning of verdict.warnings) ctx.out.warn(warning);
    forward(body, who);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      ctx.out.warn(`error while handling a callback: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) reply(res, 500, { ok: false, error: 'internal error' });
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store?.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`Port ${opts.port} on ${host} is already in use.`, { hint: 'Pass another --port (or --port 0 for any free port).' });
    if (code === 'EACCES') throw new UsageError(`Not allowed to listen on ${host}:${opts.port}.`, { hint: 'Use a port above 1023, or run behind your ingress on a high port.' });
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  ctx.out.info(
    `▸ listening on http://${shownHost}:${port}/ (any path) · verifying with partner ${key.partnerId}'s key (${key.label}), signed at most ${describeSpan(window.maxAgeMs)} ago` +
      `${store ? ` · appending to ${store.path}` : ''}${forwardUrl ? ` · forwarding to ${forwardUrl}` : ''}`,
  );
  ctx.out.info('  Put it behind your HTTPS ingress or tunnel and give that URL as --callback-url. Stop with Ctrl-C.');

  await stopped;

  // Stop taking requests, let those in flight finish (their results reach the disk), then drain.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await store?.close();
  if (forwards.size > 0) {
    const drained = Promise.allSettled([...forwards]);
    const timer = new Promise<void>((resolve) => setTimeout(resolve, FORWARD_DRAIN_MS).unref());
    await Promise.race([drained, timer]);
    stopForwards.abort();
    await drained;
  }
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  if (failure) {
    throw new SmileCliError(
      `Stopped: cannot write to ${failure.error.file}: ${failure.error.reason}. ${plural(counts.saved, 'verified result was', 'verified results were')} saved before; the result of ${failure.who} was answered 503 so that Smile ID sends it again.`,
      ExitCode.api,
      'store_failed',
      { hint: `Fix ${failure.error.file} (or pass another --out) and start smile callback listen again. A result Smile ID does not send again can be read with ${statusCommand(failure.userId, failure.jobId)}.` },
    );
  }
  ctx.out.info(
    `stopped: ${plural(counts.saved, 'verified result', 'verified results')}${store ? ` saved to ${store.path}` : ''}, ${counts.refused} refused` +
      `${counts.duplicates > 0 ? `, ${plural(counts.duplicates, 'duplicate', 'duplicates')} (answered 200, stored once)` : ''}` +
      `${counts.unsaved > 0 ? `, ${counts.unsaved} answered 503 (not saved: the sender should send ${counts.unsaved === 1 ? 'it' : 'them'} again)` : ''}`,
  );
  return 0;
}

function printResult(ctx: RunContext, record: Record<string, unknown>, verdict: Extract<CallbackVerdict, { ok: true }>): void {
  const stdout = ctx.out.streams.stdout;
  if (ctx.globals.json) {
    stdout.write(`${jsonText(record)}\n`);
    return;
  }
  const symbols: Partial<Record<Outcome, string>> = { approved: ctx.out.paint('green', '✓'), rejected: ctx.out.paint('red', '✗'), provisional: ctx.out.paint('yellow', '…') };
  const result = [record['result_code'], record['result_text']].filter((part) => typeof part === 'string' && part !== '').join(' ');
  stdout.write(`${symbols[verdict.outcome] ?? '?'} ${verdict.outcome} · user ${printable(String(record['user_id']))} · job ${printable(String(record['job_id']))}${result ? ` · ${printable(result)}` : ''} · ${describeStage(verdict.result)}\n`);
}

function checkForwardUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--forward is not a URL: ${JSON.stringify(value.slice(0, 200))}.`, { hint: 'Give an absolute http(s) URL, e.g. http://127.0.0.1:3000/smile-callback.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--forward must be an http(s) URL, not ${url.protocol}.`);
  return url.href;
}

/** POST the verified body on, retried; resolves with the last failure ("after N attempts: why"), or undefined. */
async function forwardBody(url: string, body: string, stop: AbortSignal): Promise<string | undefined> {
  const reason = await forwardAttempts(url, body, stop);
  return reason && `after ${reason.attempts} attempt${reason.attempts === 1 ? '' : 's'}: ${reason.failure}`;
}

async function forwardAttempts(url: string, body: string, stop: AbortSignal): Promise<{ attempts: number; failure: string } | undefined> {
  let failure = 'not attempted';
  let attempts = 0;
  for (const delay of FORWARD_DELAYS_MS) {
    if (delay > 0) {
      // The shared sleep removes its abort listener when it ends (a long-running listener must not leak them).
      const stopped = await sleep(delay, stop).then(() => false, () => true);
      if (stopped) return { attempts, failure: `${failure}; stopped before the next attempt` };
    }
    attempts++;
    try {
      // A signed body never follows a redirect: a 3xx is a failure that names where it pointed.
      const { response } = await fetchWithTimeout(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'smile-callback-listen' }, body, redirect: 'manual' }, stop, FORWARD_TIMEOUT_MS, { redirectsAsErrors: true });
      if (response.ok) return undefined;
      failure = `HTTP ${response.status}`;
      // 4xx other than 408/429 will not change on a retry.
      if (response.status < 500 && response.status !== 408 && response.status !== 429) return { attempts, failure };
    } catch (error) {
      if (error instanceof RedirectRefusedError) return { attempts, failure: `${error.message}: not followed (the body is signed)` };
      failure = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
  }
  return { attempts, failure };
}

function readRequestBody(req: IncomingMessage, limit: number): Promise<string | 'too_large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve('too_large');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}
