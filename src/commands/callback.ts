import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunContext } from '../context.js';
import { AuthError, InputError, UsageError } from '../errors.js';
import { renderResultText } from '../output/result-text.js';
import { registrationDocument } from '../register/pipeline.js';
import { fetchWithTimeout } from '../smile/client.js';
import { deriveOutcome } from '../smile/outcome.js';
import { sleep } from '../smile/retry.js';
import type { Outcome } from '../smile/outcome.js';
import { verifySignature } from '../smile/sign.js';
import type { JobStatusResponse, ResultObject } from '../smile/types.js';
import { exitCodeForOutcome } from './outcome-exit.js';

/** Largest callback body accepted (a result object is a few KB; 2 MB leaves room for FullData). */
export const MAX_CALLBACK_BYTES = 2 * 1024 * 1024;
/** Forwarding: one try now and two retries; each attempt bounded. Never delays the answer to Smile ID. */
const FORWARD_DELAYS_MS = [0, 1_000, 3_000];
const FORWARD_TIMEOUT_MS = 10_000;
/** How long `listen` waits for forwards still running when it is stopped. */
const FORWARD_DRAIN_MS = 5_000;
/** A signed timestamp further than this from now is reported (the signature does not cover the body, see below). */
const STALE_TIMESTAMP_MS = 60 * 60 * 1000;

/** The key a callback must be signed with. */
export interface CallbackKey {
  apiKey: string;
  partnerId: string;
  environment: 'sandbox' | 'production';
  /** How the environment is shown ("sandbox", "production", "emulator"). */
  label: string;
}

export type CallbackVerdict =
  | { ok: true; outcome: Outcome; timestamp: string; result: ResultObject; document: Record<string, unknown>; warnings: string[] }
  | { ok: false; reason: 'not_json' | 'not_object' | 'missing_signature' | 'bad_signature'; message: string };

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
 * `timestamp` + partner id: it proves the sender holds the key, not that the body is unchanged.
 */
export function verifyCallbackBody(text: string, key: CallbackKey): CallbackVerdict {
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
  const outcome = callbackOutcome(object);
  const params = (object.PartnerParams ?? {}) as Record<string, unknown>;
  const asText = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
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
  return { ok: true, outcome, timestamp, result: object, document, warnings };
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

function refusal(verdict: Extract<CallbackVerdict, { ok: false }>, key: CallbackKey): AuthError | InputError {
  if (verdict.reason === 'not_json' || verdict.reason === 'not_object') {
    return new InputError(`Not a callback body: ${verdict.message}.`, { code: verdict.reason, hint: 'Pass the JSON body exactly as Smile ID POSTed it (a file, or - for stdin).' });
  }
  return new AuthError(`The callback is not verified: ${verdict.message}. It is not shown as a result.`, {
    code: verdict.reason,
    hint: verdict.reason === 'missing_signature'
      ? 'Smile ID signs every callback; a body without timestamp and signature did not come from it (or was cut).'
      : `Check that the profile/environment matches the job's (sandbox and production keys differ; now ${key.label}, partner ${key.partnerId}). If they match, the body did not come from Smile ID.`,
  });
}

/** `smile callback verify FILE|-`: verify offline, print the outcome as register does. */
export async function runCallbackVerify(file: string, ctx: RunContext): Promise<number> {
  const text = await readCallbackInput(file, ctx);
  const key = await callbackKey(ctx);
  const verdict = verifyCallbackBody(text, key);
  if (!verdict.ok) throw refusal(verdict, key);
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
}

/**
 * `smile callback listen`: an HTTP endpoint for Smile ID's callbacks. Each POST (any path) is
 * verified; a verified result is appended to --out and fsync'ed before the 200, so a crash never
 * loses an acknowledged result. Every result is kept (machine, then human review): no dedupe.
 */
export async function runCallbackListen(opts: CallbackListenOptions, ctx: RunContext): Promise<number> {
  const key = await callbackKey(ctx);
  const forwardUrl = opts.forward === undefined ? undefined : checkForwardUrl(opts.forward);
  const host = opts.host ?? '127.0.0.1';
  const { promises: fs } = await import('node:fs');
  const { createServer } = await import('node:http');

  let journal: Awaited<ReturnType<typeof fs.open>> | undefined;
  if (opts.out !== undefined) {
    try {
      journal = await fs.open(opts.out, 'a', 0o600);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`Cannot open ${opts.out} for appending (${code ?? 'error'}).`, { code: 'unwritable', hint: 'Pass an --out path in a directory you can write to.' });
    }
  }
  let appendChain: Promise<void> = Promise.resolve();
  const append = (line: string): Promise<void> => {
    const handle = journal;
    if (!handle) return Promise.resolve();
    const next = appendChain.then(async () => {
      await handle.write(line);
      await handle.sync();
    });
    appendChain = next.catch(() => undefined);
    return next;
  };

  const counts = { saved: 0, refused: 0 };
  const stopForwards = new AbortController();
  const forwards = new Set<Promise<void>>();
  const forward = (body: string, label: string) => {
    if (!forwardUrl) return;
    const task = forwardBody(forwardUrl, body, stopForwards.signal).then(
      (failure) => {
        if (failure) ctx.out.warn(`forward of ${label} to ${forwardUrl} failed after ${FORWARD_DELAYS_MS.length} attempts: ${failure}${journal ? ` (it is in ${opts.out})` : ''}`);
      },
    );
    forwards.add(task);
    void task.finally(() => forwards.delete(task));
  };

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
    const verdict = verifyCallbackBody(body, key);
    if (!verdict.ok) {
      counts.refused += 1;
      const status = verdict.reason === 'not_json' || verdict.reason === 'not_object' ? 400 : 401;
      ctx.out.warn(`refused ${where}: ${verdict.message} (${status})`);
      reply(res, status, { ok: false, error: verdict.message });
      return;
    }
    const record: Record<string, unknown> = { received_at: new Date().toISOString(), path: (req.url ?? '/').split('?')[0], ...verdict.document };
    try {
      await append(`${JSON.stringify(record)}\n`);
    } catch (error) {
      // Not on disk: answer 5xx so that Smile ID delivers it again.
      ctx.out.warn(`could not save a verified result to ${opts.out}: ${error instanceof Error ? error.message : String(error)} (answered 500)`);
      reply(res, 500, { ok: false, error: 'could not store the result' });
      return;
    }
    counts.saved += 1;
    reply(res, 200, { ok: true });
    printResult(ctx, record, verdict);
    for (const warning of verdict.warnings) ctx.out.warn(warning);
    const age = Date.now() - Date.parse(verdict.timestamp);
    if (Math.abs(age) > STALE_TIMESTAMP_MS) ctx.out.warn(`the signed timestamp ${verdict.timestamp} is ${Math.round(Math.abs(age) / 60_000)} min ${age > 0 ? 'old' : 'in the future'}: a replayed signature would look like this.`);
    forward(body, `job ${String(record['job_id'])}`);
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
    await journal?.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`Port ${opts.port} on ${host} is already in use.`, { hint: 'Pass another --port (or --port 0 for any free port).' });
    if (code === 'EACCES') throw new UsageError(`Not allowed to listen on ${host}:${opts.port}.`, { hint: 'Use a port above 1023, or run behind your ingress on a high port.' });
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  ctx.out.info(`▸ listening on http://${shownHost}:${port}/ (any path) · verifying with partner ${key.partnerId}'s key (${key.label})${journal ? ` · appending to ${opts.out}` : ''}${forwardUrl ? ` · forwarding to ${forwardUrl}` : ''}`);
  ctx.out.info('  Put it behind your HTTPS ingress or tunnel and give that URL as --callback-url. Stop with Ctrl-C.');

  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });

  // Stop taking requests, let those in flight finish (their results reach the disk), then drain.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await appendChain;
  await journal?.close();
  if (forwards.size > 0) {
    const drained = Promise.allSettled([...forwards]);
    const timer = new Promise<void>((resolve) => setTimeout(resolve, FORWARD_DRAIN_MS).unref());
    await Promise.race([drained, timer]);
    stopForwards.abort();
    await drained;
  }
  ctx.out.info(`stopped: ${counts.saved} verified result${counts.saved === 1 ? '' : 's'}${journal ? ` saved to ${opts.out}` : ''}, ${counts.refused} refused`);
  return 0;
}

function printResult(ctx: RunContext, record: Record<string, unknown>, verdict: Extract<CallbackVerdict, { ok: true }>): void {
  const stdout = ctx.out.streams.stdout;
  if (ctx.globals.json) {
    stdout.write(`${JSON.stringify(record)}\n`);
    return;
  }
  const symbols: Partial<Record<Outcome, string>> = { approved: ctx.out.paint('green', '✓'), rejected: ctx.out.paint('red', '✗'), provisional: ctx.out.paint('yellow', '…') };
  const result = [record['result_code'], record['result_text']].filter((part) => typeof part === 'string' && part !== '').join(' ');
  stdout.write(`${symbols[verdict.outcome] ?? '?'} ${verdict.outcome} · user ${String(record['user_id'])} · job ${String(record['job_id'])}${result ? ` · ${result}` : ''} · ${describeStage(verdict.result)}\n`);
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

/** POST the verified body on, retried; resolves with the last failure's reason, or undefined. */
async function forwardBody(url: string, body: string, stop: AbortSignal): Promise<string | undefined> {
  let failure = 'not attempted';
  for (const delay of FORWARD_DELAYS_MS) {
    if (delay > 0) {
      // The shared sleep removes its abort listener when it ends (a long-running listener must not leak them).
      const stopped = await sleep(delay, stop).then(() => false, () => true);
      if (stopped) return `${failure}; stopped before the next attempt`;
    }
    try {
      const { response } = await fetchWithTimeout(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'smile-callback-listen' }, body }, stop, FORWARD_TIMEOUT_MS);
      if (response.ok) return undefined;
      failure = `HTTP ${response.status}`;
      // 4xx other than 408/429 will not change on a retry.
      if (response.status < 500 && response.status !== 408 && response.status !== 429) return failure;
    } catch (error) {
      failure = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    }
  }
  return failure;
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
