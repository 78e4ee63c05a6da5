/**
 * `smile callback listen`: an HTTP endpoint for Smile ID's callbacks. Each POST is verified
 * (src/smile/callback.ts), its result appended whole to the --out store and flushed before the
 * answer, printed, and optionally forwarded on.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ExitCode, InputError, SmileCliError, UsageError } from '../errors.js';
import { syncDirectory, writeFailureReason } from '../fs/durable.js';
import { readLimited } from '../http/read-limited.js';
import { jsonText } from '../output/output.js';
import type { Output } from '../output/output.js';
import { OUTCOME_STYLE, resultLine } from '../output/result-text.js';
import { statusCommandFor } from '../output/shell.js';
import {
  MAX_CALLBACK_BYTES,
  callbackWindow,
  describeCallbackStage,
  describeSpan,
  printableCallbackText as printable,
  verifyCallbackBody,
} from '../smile/callback.js';
import type { VerifiedCallback } from '../smile/callback.js';
import { RedirectRefusedError, fetchWithTimeout } from '../smile/client.js';
import { sleep } from '../smile/retry.js';
import { callbackKey } from './key.js';
import type { CallbackKeyHost } from './key.js';
import { callbackDocument } from './verify.js';
import type { CallbackDocument } from './verify.js';

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

export interface CallbackListenOptions {
  port: number;
  host: string;
  out?: string | undefined;
  forward?: string | undefined;
  /** `--max-age` in ms (default CALLBACK_MAX_AGE_MS). */
  maxAgeMs?: number | undefined;
}

/** What the listener needs from the run: the settings that pick the key, where to print, when to stop. */
export interface ListenHost extends CallbackKeyHost {
  out: Output;
  signal: AbortSignal;
}

/** One line of --out (and of stdout with --json): when and where a verified result came in, and its document. */
export interface CallbackRecord extends CallbackDocument {
  received_at: string;
  path: string;
}

/** What a listener that stopped by itself (Ctrl-C, SIGTERM) did. */
export interface ListenSummary {
  saved: number;
  refused: number;
  duplicates: number;
  unsaved: number;
  /** The --out file, when results were stored. */
  store: string | undefined;
}

/**
 * `smile callback listen`: an HTTP endpoint for Smile ID's callbacks. Each POST (any path) is
 * verified (signature, and its age: --max-age); a verified result is appended to --out whole and
 * fdatasync'ed before the 200, so a crash never loses an acknowledged result. Every result is kept
 * (machine, then human review); only a repeat of the very same signed body is answered 200 without
 * a second line. When a line cannot be written the answer is 503 (the sender retries): a full disk
 * is waited out, any other write failure stops the listener (exit 5) so that it is seen.
 */
export async function listenForCallbacks(opts: CallbackListenOptions, ctx: ListenHost): Promise<ListenSummary> {
  const window = callbackWindow(opts.maxAgeMs);
  const key = await callbackKey(ctx);
  const forwardUrl = opts.forward === undefined ? undefined : checkForwardUrl(opts.forward);
  const host = opts.host;
  const { createServer } = await import('node:http');

  const store = opts.out === undefined ? undefined : await CallbackStore.open(opts.out, (line) => ctx.out.warn(line));
  const memory = new DeliveryMemory(window.maxAgeMs + window.futureMs);
  const counts = { saved: 0, refused: 0, duplicates: 0, unsaved: 0 };
  /** Set when --out can never be written again: the listener stops and exits 5. */
  let failure:
    { error: StoreWriteError; who: string; userId: string | undefined; jobId: string | undefined } | undefined;
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
    const task = forwardBody(forwardUrl, body, stopForwards.signal).then((failed) => {
      if (failed)
        ctx.out.warn(
          `forward of ${label} to ${forwardUrl} failed ${failed}${store ? ` (it is in ${store.path})` : ''}`,
        );
    });
    forwards.add(task);
    void task.finally(() => forwards.delete(task));
  };

  const unavailable = (res: ServerResponse) =>
    reply(
      res,
      503,
      { ok: false, error: 'cannot store results now; send it again later' },
      { 'retry-after': String(STORE_RETRY_AFTER_S), ...(failure ? { connection: 'close' } : {}) },
    );

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
    // Past the limit the answer goes at once (and the connection is closed); the rest is read and dropped.
    const received = await readLimited(req, MAX_CALLBACK_BYTES, {
      overflow: 'drain',
      declaredLength: req.headers['content-length'],
    });
    if (received.tooLarge) {
      counts.refused += 1;
      ctx.out.warn(`refused ${where}: the body is over ${MAX_CALLBACK_BYTES / 1024 / 1024} MB (413)`);
      reply(res, 413, { ok: false, error: 'body too large' }, { connection: 'close' });
      return;
    }
    const body = received.bytes.toString('utf8');
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
    const userId = verdict.userId || undefined;
    const jobId = verdict.jobId || undefined;
    const who = whoseResult(userId, jobId);

    // A repeat of a body stored (or being stored) is acknowledged, not stored again; if the first
    // copy could not be stored, this one tries.
    const fingerprint = deliveryFingerprint(verdict);
    for (let earlier = memory.get(fingerprint); earlier !== undefined; earlier = memory.get(fingerprint)) {
      if (await earlier) {
        counts.duplicates += 1;
        ctx.out.info(
          `duplicate delivery of ${who}, signed ${printable(verdict.timestamp, 40)}: answered 200, not stored again`,
        );
        reply(res, 200, { ok: true, duplicate: true });
        return;
      }
    }
    if (failure) {
      unavailable(res);
      return;
    }
    let settle!: (stored: boolean) => void;
    memory.add(fingerprint, new Promise<boolean>((resolve) => (settle = resolve)));
    const record: CallbackRecord = {
      received_at: new Date().toISOString(),
      path: (req.url ?? '/').split('?')[0] ?? '/',
      ...callbackDocument(verdict, key),
    };
    try {
      await store?.append(`${jsonText(record)}\n`);
    } catch (error) {
      memory.forget(fingerprint);
      settle(false);
      const problem =
        error instanceof StoreWriteError
          ? error
          : new StoreWriteError(store?.path ?? '--out', errnoOf(error), false, writeFailureReason(error));
      counts.unsaved += 1;
      if (problem.transient) {
        ctx.out.warn(
          `could not save the result of ${who} to ${problem.file}: ${problem.reason}; answered 503 so that Smile ID sends it again (the file still ends with whole lines). ` +
            `Free space on the disk holding ${problem.file}: the listener keeps running and saves results again once there is room.`,
        );
      } else {
        failure ??= { error: problem, who, userId, jobId };
        ctx.out.warn(
          `could not save the result of ${who} to ${problem.file}: ${problem.reason}; answered 503 so that Smile ID sends it again. Stopping: the file cannot be written any more.`,
        );
        stopListening();
      }
      unavailable(res);
      return;
    }
    settle(true);
    counts.saved += 1;
    reply(res, 200, { ok: true });
    printResult(ctx.out, record, verdict);
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
    if (code === 'EADDRINUSE')
      throw new UsageError(`Port ${opts.port} on ${host} is already in use.`, {
        hint: 'Pass another --port (or --port 0 for any free port).',
      });
    if (code === 'EACCES')
      throw new UsageError(`Not allowed to listen on ${host}:${opts.port}.`, {
        hint: 'Use a port above 1023, or run behind your ingress on a high port.',
      });
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
  if (failure) {
    throw new SmileCliError(
      `Stopped: cannot write to ${failure.error.file}: ${failure.error.reason}. ${plural(counts.saved, 'verified result was', 'verified results were')} saved before; the result of ${failure.who} was answered 503 so that Smile ID sends it again.`,
      ExitCode.api,
      'store_failed',
      {
        hint: `Fix ${failure.error.file} (or pass another --out) and start smile callback listen again. A result Smile ID does not send again can be read with ${statusCommand(failure.userId, failure.jobId)}.`,
      },
    );
  }
  return { ...counts, store: store?.path };
}

/** The last line of a listener that was stopped: what it saved, refused and answered. */
export function describeListenSummary(summary: ListenSummary): string {
  return (
    `stopped: ${plural(summary.saved, 'verified result', 'verified results')}${summary.store === undefined ? '' : ` saved to ${summary.store}`}, ${summary.refused} refused` +
    `${summary.duplicates > 0 ? `, ${plural(summary.duplicates, 'duplicate', 'duplicates')} (answered 200, stored once)` : ''}` +
    `${summary.unsaved > 0 ? `, ${summary.unsaved} answered 503 (not saved: the sender should send ${summary.unsaved === 1 ? 'it' : 'them'} again)` : ''}`
  );
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line on stdout per verified result: the record as JSON with --json, else a short human line. */
function printResult(out: Output, record: CallbackRecord, verdict: VerifiedCallback): void {
  if (out.json) {
    out.jsonLine(record);
    return;
  }
  const style = OUTCOME_STYLE[verdict.outcome];
  const result = resultLine(record);
  out.stdoutLine(
    `${out.paint(style.color, style.symbol)} ${verdict.outcome} · user ${printable(String(record.user_id))} · job ${printable(String(record.job_id))}${result ? ` · ${printable(result)}` : ''} · ${describeCallbackStage(verdict.result)}`,
  );
}

function checkForwardUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--forward is not a URL: ${JSON.stringify(value.slice(0, 200))}.`, {
      hint: 'Give an absolute http(s) URL, e.g. http://127.0.0.1:3000/smile-callback.',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--forward must be an http(s) URL, not ${url.protocol}.`);
  return url.href;
}

/** POST the verified body on, retried; resolves with the last failure ("after N attempts: why"), or undefined. */
async function forwardBody(url: string, body: string, stop: AbortSignal): Promise<string | undefined> {
  const reason = await forwardAttempts(url, body, stop);
  return reason && `after ${reason.attempts} attempt${reason.attempts === 1 ? '' : 's'}: ${reason.failure}`;
}

async function forwardAttempts(
  url: string,
  body: string,
  stop: AbortSignal,
): Promise<{ attempts: number; failure: string } | undefined> {
  let failure = 'not attempted';
  let attempts = 0;
  for (const delay of FORWARD_DELAYS_MS) {
    if (delay > 0) {
      // The shared sleep removes its abort listener when it ends (a long-running listener must not leak them).
      const stopped = await sleep(delay, stop).then(
        () => false,
        () => true,
      );
      if (stopped) return { attempts, failure: `${failure}; stopped before the next attempt` };
    }
    attempts++;
    try {
      // A signed body never follows a redirect: a 3xx is a failure that names where it pointed.
      const { response } = await fetchWithTimeout(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'smile-callback-listen' },
          body,
          redirect: 'manual',
        },
        stop,
        FORWARD_TIMEOUT_MS,
        { redirectsAsErrors: true },
      );
      if (response.ok) return undefined;
      failure = `HTTP ${response.status}`;
      // 4xx other than 408/429 will not change on a retry.
      if (response.status < 500 && response.status !== 408 && response.status !== 429) return { attempts, failure };
    } catch (error) {
      if (error instanceof RedirectRefusedError)
        return { attempts, failure: `${error.message}: not followed (the body is signed)` };
      failure =
        error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
  }
  return { attempts, failure };
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
      throw new InputError(
        `--out ${printable(path)} is not a regular file (${info.isFIFO() ? 'a named pipe' : info.isDirectory() ? 'a directory' : 'a socket'}).`,
        { code: 'unwritable', hint: 'Pass an --out path for a JSONL file; to follow results live, tail -f that file.' },
      );
    }
    let handle: FileHandle;
    try {
      handle = await fs.open(path, 'a', 0o600);
    } catch (error) {
      throw new InputError(`Cannot open ${path} for appending: ${writeFailureReason(error)}.`, {
        code: 'unwritable',
        hint: 'Pass an --out path in a directory you can write to.',
      });
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
    if (needsNewline)
      warn(
        `${path} ends with an incomplete line (an earlier crash or full disk?): it is left as it is, and new results start on a new line.`,
      );
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
          this.broken = new StoreWriteError(
            this.path,
            code,
            false,
            `${failure.reason}, and the part of the line already written could not be cut off again (${errnoOf(cutError)})`,
          );
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
function deliveryFingerprint(verdict: VerifiedCallback): string {
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
  return userId && jobId ? statusCommandFor(userId, jobId, {}, { wait: false }) : 'smile status --user-id U --job-id J';
}

function reply(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
