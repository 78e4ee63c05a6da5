import { ApiError, AuthError, CancelledError, RefusedError, SmileCliError } from '../errors.js';
import { REENROLL_AFTER_FLAG_HINT, lookupCode } from './codes.js';
import { describeNetworkError, networkErrorCode } from '../http/network-error.js';
import { readLimited } from '../http/read-limited.js';
import { describeText, redactUrl, scrubSecrets } from './redact.js';
import {
  DEFAULT_RETRY,
  backoffDelayMs,
  isRetryableFailure,
  mayHaveTakenEffect,
  parseRetryAfter,
  sleep,
} from './retry.js';
import type { AttemptFailure, RetryMode, RetryPolicy } from './retry.js';
import {
  SIGNED_ANSWER_WINDOW_MS,
  isFreshSignature,
  signedFields,
  signedTimestampAge,
  verifySignature,
} from './sign.js';
import { SOURCE_SDK, SOURCE_SDK_VERSION, ZIP_FILE_NAME, geolocationMetadatum } from './package.js';
import { checkJobStatusAnswer, checkPrepUploadAnswer, loadAnswerChecks } from './types.js';
import type {
  GeoInfo,
  JobStatusResponse,
  PartnerParams,
  PrepUploadRequest,
  PrepUploadResponse,
  SmileErrorBody,
} from './types.js';

export interface SmileClientConfig {
  /** v1 base including `/v1`, no trailing slash. */
  baseUrl: string;
  partnerId: string;
  apiKey: string;
  /** Per-request timeout for JSON calls. */
  timeoutMs?: number;
  /** Per-request timeout for the zip PUT. */
  uploadTimeoutMs?: number;
  retry?: Partial<Omit<RetryPolicy, 'mode'>>;
  /** --debug: receives redacted trace lines. */
  trace?: ((line: string) => void) | undefined;
  now?: () => Date;
  random?: () => number;
  /** Called before every attempt (bulk: shared rate limit and 429 pause). */
  beforeRequest?: ((signal: AbortSignal) => Promise<void>) | undefined;
  /** Called when the server rate-limits us (bulk: pause every worker). */
  onRateLimited?: ((retryAfterMs: number) => void) | undefined;
  /** Called before a retry sleeps (for "retrying in 2s" messages). */
  onRetry?: ((info: { label: string; attempt: number; delayMs: number; reason: string }) => void) | undefined;
}

export interface PrepUploadInput {
  partnerParams: PartnerParams;
  callbackUrl?: string | undefined;
  allowNewEnroll?: boolean;
  useEnrolledImage?: boolean;
  geo?: GeoInfo | undefined;
}

export interface PrepUploadResult {
  response: PrepUploadResponse;
  /** The timestamp/signature pair the successful request carried (reused inside info.json). */
  timestamp: string;
  signature: string;
  /** True when the job was recovered with `retry: true` after a 2215. */
  retried: boolean;
}

/**
 * The most of an answer's body smile reads, per endpoint (product.md Security: bodies are capped).
 * job_status can carry a user's whole history and image links, so it gets the most; the prep
 * upload's JSON and the storage server's XML answer to the PUT are a few hundred bytes. A larger
 * answer is cut off (the connection is cancelled, nothing more is read) and is an API error.
 */
export const MAX_RESPONSE_BYTES = {
  prepUpload: 64 * 1024,
  zipUpload: 64 * 1024,
  jobStatus: 4 * 1024 * 1024,
  services: 1024 * 1024,
  /** fetchWithTimeout's default for callers that give none. */
  other: 1024 * 1024,
} as const;

/** Options of every call: the caller's signal, and the command's deadline (epoch ms) if it has one. */
export interface CallOptions {
  signal: AbortSignal;
  /**
   * One deadline for the whole command (`register --timeout`): each attempt's timeout is clipped to
   * what remains, a retry that would not start before it is not made, and running out is an
   * ApiError with code `deadline`. Absent: per-attempt timeouts and retries only (bulk).
   */
  deadline?: number | undefined;
}

export interface JobStatusInput {
  userId: string;
  jobId: string;
  imageLinks?: boolean;
  history?: boolean;
}

interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Some earlier attempt failed in a way that may have taken effect on the server. */
  ambiguous: boolean;
}

interface SendRequest {
  method: string;
  url: string;
  /** A function is called once per attempt: signed JSON bodies carry a fresh timestamp + signature each time. */
  body?: string | Uint8Array | (() => string) | undefined;
  headers: Record<string, string>;
  mode: RetryMode;
  label: string;
  /** Per-attempt timeout (before the deadline clips it). */
  timeoutMs?: number | undefined;
  maxBytes: number;
  /** Signed requests and the zip never follow a redirect: a 3xx is an error. */
  redirect: 'manual' | 'follow';
}

/** SmileClient.warmUp's work, done once per process. */
let warming: Promise<void> | undefined;

/** Smile ID's error codes that mean "the job for this job_id exists already". */
const JOB_EXISTS = '2215';
/** "This user is already enrolled" (§6.4). */
const ALREADY_ENROLLED = '2209';

/**
 * The v1 client (smile-api.md §3–§5): prep upload, zip PUT, job_status. Keep-alive comes from
 * Node's fetch; every call has a timeout (and optionally the command's deadline); retries follow
 * the named modes of retry.ts. What comes back is not trusted: bodies are read up to
 * MAX_RESPONSE_BYTES, answers are checked against the wire types (types.ts), job_status answers
 * must be signed with the key inside ±SIGNED_ANSWER_WINDOW_MS of our clock, and no request
 * follows a redirect except the unsigned `services` probe — the signed JSON calls would re-send
 * their signature, and the zip PUT the person's selfie, to wherever a Location points. (S3
 * pre-signed URLs answer the PUT themselves; a redirect there means a wrong or hostile URL.)
 */
export class SmileClient {
  readonly baseUrl: string;
  readonly partnerId: string;
  readonly #apiKey: string;
  readonly #config: SmileClientConfig;
  readonly #policy: Omit<RetryPolicy, 'mode'>;

  constructor(config: SmileClientConfig) {
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.partnerId = config.partnerId;
    this.#apiKey = config.apiKey;
    this.#config = config;
    this.#policy = { ...DEFAULT_RETRY, ...config.retry };
  }

  /** Epoch ms of the last timestamp this client signed (each signature gets a later one). */
  #lastSignedAt = 0;

  /**
   * A fresh timestamp + signature, made when a request is about to leave: every attempt of a call,
   * retries after backoff included, signs anew, as the Node SDK signs each job_status call
   * ([node] smile-identity-core@3.2.1:dist/src/utilities.js:17 `new Signature(…).generate_signature()`
   * inside get_job_status, which queryJobStatus calls once per poll, web-api.js:291-310; docs
   * generate-signature: "This signature should be generated at the time of the job submission"). Two requests of
   * one client never share a timestamp, even inside one millisecond: whether Smile ID refuses a
   * replayed signature is UNVERIFIED, so smile never sends one.
   */
  #sign(): { timestamp: string; signature: string } {
    const now = (this.#config.now?.() ?? new Date()).getTime();
    const at = Math.max(now, this.#lastSignedAt + 1);
    this.#lastSignedAt = at;
    return signedFields(this.#apiKey, this.partnerId, new Date(at));
  }

  /**
   * `POST /v1/upload`. Retried on transport errors, 408, 429 and 5xx. A re-send after an attempt
   * that may have landed can meet 2215 for our own job: that is recovered once with `retry: true`
   * (never a blind second job). `retry` forces the flag from the start (resuming a known job).
   */
  async prepUpload(input: PrepUploadInput, options: CallOptions & { retry?: boolean }): Promise<PrepUploadResult> {
    let retryFlag = options.retry === true;
    let ambiguousBefore = false;
    for (;;) {
      // Signed per attempt (see #sign); the pair of the attempt that got the answer goes into info.json.
      let signed = { timestamp: '', signature: '' };
      const flagged = retryFlag;
      const bodyFor = (): string => {
        signed = this.#sign();
        const body: PrepUploadRequest = {
          source_sdk: SOURCE_SDK,
          source_sdk_version: SOURCE_SDK_VERSION,
          file_name: ZIP_FILE_NAME,
          smile_client_id: this.partnerId,
          timestamp: signed.timestamp,
          signature: signed.signature,
          partner_params: input.partnerParams,
          model_parameters: {},
          ...(input.callbackUrl ? { callback_url: input.callbackUrl } : {}),
          allow_new_enroll: input.allowNewEnroll === true,
          ...(input.useEnrolledImage ? { use_enrolled_image: true } : {}),
          ...(flagged ? { retry: true } : {}),
          ...(input.geo ? { metadata: [geolocationMetadatum(input.geo, signed.timestamp)] } : {}),
        };
        return JSON.stringify(body);
      };
      const response = await this.#send(
        {
          method: 'POST',
          url: `${this.baseUrl}/upload`,
          body: bodyFor,
          headers: { 'content-type': 'application/json' },
          mode: 'prep-upload',
          label: 'prep upload',
          maxBytes: MAX_RESPONSE_BYTES.prepUpload,
          redirect: 'manual',
        },
        options,
      );
      ambiguousBefore ||= response.ambiguous;
      if (response.status === 200) {
        const parsed = parseJson(response.text);
        const problem = await checkPrepUploadAnswer(parsed);
        if (problem) throw badAnswer('prep upload', problem);
        return { response: parsed as PrepUploadResponse, ...signed, retried: retryFlag };
      }
      const error = parseSmileError(response.text);
      if (error?.code === JOB_EXISTS && !retryFlag && ambiguousBefore) {
        // Our own earlier attempt landed but its answer was lost: ask for the same job again.
        retryFlag = true;
        continue;
      }
      if (error?.code === ALREADY_ENROLLED && input.allowNewEnroll === true) {
        // The flag was sent and ignored: naming it again would loop; name Smile ID's documented route.
        throw this.#httpError(response, 'prep upload', input.partnerParams, {
          hint: REENROLL_AFTER_FLAG_HINT,
          details: { allow_new_enroll: true },
        });
      }
      throw this.#httpError(response, 'prep upload', input.partnerParams);
    }
  }

  /** `PUT upload_url` with the zip (Content-Type must be application/zip, §3.6). Idempotent; never redirected. */
  async uploadZip(uploadUrl: string, zip: Uint8Array, options: CallOptions): Promise<void> {
    const response = await this.#send(
      {
        method: 'PUT',
        url: uploadUrl,
        body: zip,
        headers: { 'content-type': 'application/zip', 'content-length': String(zip.byteLength) },
        mode: 'idempotent',
        label: 'zip upload',
        timeoutMs: this.#config.uploadTimeoutMs ?? 120_000,
        maxBytes: MAX_RESPONSE_BYTES.zipUpload,
        redirect: 'manual',
      },
      options,
    );
    if (response.status < 200 || response.status >= 300) {
      throw new ApiError(`The zip upload failed with HTTP ${response.status}.`, {
        status: response.status,
        code: `http_${response.status}`,
        hint:
          response.status === 403
            ? (lookupCode('403')?.hint ?? '')
            : 'Try again later; run with --debug to see the answer.',
      });
    }
  }

  /**
   * `POST /v1/job_status`. Before the answer is believed: its signature is verified, its signed
   * timestamp must be inside ±SIGNED_ANSWER_WINDOW_MS of our clock (an old signed answer replayed
   * looks exactly like a fresh one otherwise), and its fields must have the types of §5.2.
   */
  async jobStatus(input: JobStatusInput, options: CallOptions): Promise<JobStatusResponse> {
    // A new timestamp + signature for every attempt, retries after backoff included (see #sign).
    const bodyFor = (): string =>
      JSON.stringify({
        partner_id: this.partnerId,
        user_id: input.userId,
        job_id: input.jobId,
        image_links: input.imageLinks === true,
        history: input.history === true,
        ...this.#sign(),
      });
    const response = await this.#send(
      {
        method: 'POST',
        url: `${this.baseUrl}/job_status`,
        body: bodyFor,
        headers: { 'content-type': 'application/json' },
        mode: 'idempotent',
        label: 'job status',
        maxBytes: MAX_RESPONSE_BYTES.jobStatus,
        redirect: 'manual',
      },
      options,
    );
    if (response.status !== 200)
      throw this.#httpError(response, 'job status', { user_id: input.userId, job_id: input.jobId });
    const parsed = parseJson(response.text) as JobStatusResponse | undefined;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ApiError('The job status answer was not JSON.', {
        status: 200,
        code: 'bad_response',
        hint: 'Check --base-url; run with --debug to see the answer.',
      });
    }
    if (!verifySignature(this.#apiKey, this.partnerId, parsed.timestamp, parsed.signature)) {
      throw new AuthError('The job status answer is not signed with your API key: it was not believed.', {
        code: 'bad_signature',
        hint: 'Something between you and Smile ID changed the answer, or --base-url is not Smile ID. Check the URL and any proxy; `smile doctor` checks a signed round trip.',
      });
    }
    const now = (this.#config.now?.() ?? new Date()).getTime();
    const stale = staleSignature(parsed.timestamp, now);
    if (stale) throw stale;
    const problem = await checkJobStatusAnswer(parsed);
    if (problem) throw badAnswer('job status', problem);
    return parsed;
  }

  /**
   * Loads what the first request needs while the caller does other work (register: during the selfie
   * check): the answer checks (zod), Node's fetch (undici), and for https the TLS root store. Sends
   * nothing and opens no connection: a selfie that fails its checks must leave no trace at Smile ID.
   * Never fails (the first real request reports any problem).
   */
  warmUp(): Promise<void> {
    warming ??= Promise.all([
      loadAnswerChecks(),
      (async () => {
        // Reading the global loads undici; its first connection would otherwise pay for that.
        void globalThis.fetch;
        // The first secure context builds the root store (system roots + NODE_EXTRA_CA_CERTS),
        // which every later TLS connection of the process shares.
        if (this.baseUrl.startsWith('https:')) (await import('node:tls')).createSecureContext();
      })(),
    ]).then(
      () => undefined,
      () => undefined,
    );
    return warming;
  }

  /** `GET /v1/services`: unauthenticated; used by doctor as a reachability probe. */
  async services(options: CallOptions): Promise<{ status: number; headers: Headers; text: string }> {
    return this.#send(
      {
        method: 'GET',
        url: `${this.baseUrl}/services`,
        headers: {},
        mode: 'none',
        label: 'services',
        maxBytes: MAX_RESPONSE_BYTES.services,
        redirect: 'follow',
      },
      options,
    );
  }

  #httpError(
    response: HttpResponse,
    label: string,
    params: Record<string, unknown>,
    extra: { hint?: string; details?: Record<string, unknown> } = {},
  ): SmileCliError {
    const body = parseSmileError(response.text);
    // A 429 keeps the server's Retry-After: a caller that waits anyway (register's wait) waits it out.
    const retryAfterMs = response.status === 429 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
    const limited = retryAfterMs === undefined ? {} : { retryAfterMs };
    const details = {
      http_status: response.status,
      ...(body ? { smile_code: body.code } : {}),
      user_id: params['user_id'],
      job_id: params['job_id'],
      ...extra.details,
    };
    if (body) {
      const info = lookupCode(body.code);
      const message = `Smile ID refused the ${label}: ${body.code} ${body.error || info?.title || ''}`.trim();
      const options = {
        code: body.code,
        hint: extra.hint ?? info?.hint ?? 'See `smile explain ' + body.code + '`.',
        details,
      };
      switch (info?.exit) {
        case 'auth':
          return new AuthError(message, options);
        case 'api':
          return new ApiError(message, { ...options, status: response.status, ...limited });
        case undefined:
          return response.status >= 500 || response.status === 429
            ? new ApiError(message, { ...options, status: response.status, ...limited })
            : new RefusedError(message, options);
        default:
          return new RefusedError(message, options);
      }
    }
    if (response.status === 401 || response.status === 403) {
      return new AuthError(`The ${label} was refused with HTTP ${response.status}.`, {
        code: `http_${response.status}`,
        details,
        hint: 'Check the API key, partner id and environment (`smile doctor`).',
      });
    }
    if (response.status === 404) {
      return new ApiError(`The ${label} endpoint was not found (HTTP 404).`, {
        status: 404,
        code: 'http_404',
        details,
        hint: 'Check --base-url: it must be the v1 base including /v1.',
      });
    }
    return new ApiError(`The ${label} failed with HTTP ${response.status}.`, {
      status: response.status,
      ...limited,
      code: `http_${response.status}`,
      details,
      hint: 'Try again later; run with --debug to see the answer.',
    });
  }

  async #send(request: SendRequest, options: CallOptions): Promise<HttpResponse> {
    const { method, url, headers, mode, label, maxBytes, redirect } = request;
    const { signal, deadline } = options;
    const timeoutMs = request.timeoutMs ?? this.#config.timeoutMs ?? 30_000;
    const maxAttempts = mode === 'none' ? 1 : Math.max(1, this.#policy.maxAttempts);
    let ambiguous = false;
    let lastReason: string | undefined;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new CancelledError();
      await this.#config.beforeRequest?.(signal);
      const remaining = deadline === undefined ? Infinity : deadline - Date.now();
      if (remaining <= 0) throw deadlineError(label, lastReason, attempt - 1);
      const attemptTimeoutMs = Math.max(1, Math.min(timeoutMs, remaining));
      const body = typeof request.body === 'function' ? request.body() : request.body;
      const started = performance.now();
      this.#trace(`→ ${method} ${redactUrl(url)} ${describeBody(body)}`);
      let failure: AttemptFailure;
      let reason: string;
      try {
        const { response, text } = await fetchWithTimeout(
          url,
          { method, headers, redirect, ...(body === undefined ? {} : { body }) },
          signal,
          attemptTimeoutMs,
          { maxBytes, redirectsAsErrors: redirect === 'manual' },
        );
        this.#trace(
          `← ${response.status} ${method} ${redactUrl(url)} (${Math.round(performance.now() - started)} ms) ${describeText(text)}`,
        );
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        if (response.status === 429) this.#config.onRateLimited?.(retryAfterMs ?? 1000);
        failure = { kind: 'http', status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
        if (!isRetryableFailure(failure, mode) || attempt >= maxAttempts) {
          return { status: response.status, headers: response.headers, text, ambiguous };
        }
        reason = `HTTP ${response.status}`;
      } catch (error) {
        if (signal.aborted) throw new CancelledError();
        if (error instanceof RedirectRefusedError) {
          this.#trace(
            `← ${error.status} ${method} ${redactUrl(url)} redirect to ${error.locationHost ?? '(no Location)'} refused`,
          );
          throw redirectError(label, error);
        }
        if (error instanceof ResponseTooLargeError) {
          this.#trace(`✗ ${method} ${redactUrl(url)} answer cut off at ${formatBytes(error.limit)}`);
          throw tooLargeError(label, error);
        }
        failure = classifyFetchError(error);
        reason =
          failure.kind === 'timeout' ? `no answer in ${formatSeconds(attemptTimeoutMs)}` : describeNetworkError(error);
        this.#trace(`✗ ${method} ${redactUrl(url)} (${Math.round(performance.now() - started)} ms) ${reason}`);
        // An attempt cut short by the deadline is the end of the call, not a failure to retry.
        if (failure.kind === 'timeout' && attemptTimeoutMs < timeoutMs)
          throw deadlineError(label, reason, attempt, error);
        if (!isRetryableFailure(failure, mode) || attempt >= maxAttempts) {
          throw new ApiError(`The ${label} failed: ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}.`, {
            code: failure.kind === 'timeout' ? 'timeout' : 'network',
            hint: `Check your network and that ${new URL(url).host} is reachable (\`smile doctor\`), then run the same command again.`,
            cause: error,
          });
        }
      }
      lastReason = reason;
      ambiguous ||= mayHaveTakenEffect(failure);
      const delayMs = backoffDelayMs(
        this.#policy,
        attempt,
        failure.kind === 'http' ? failure.retryAfterMs : undefined,
        this.#config.random,
      );
      // A retry that could not start before the deadline is not made: sleeping until then would only delay the same answer.
      if (deadline !== undefined && Date.now() + delayMs >= deadline) throw deadlineError(label, reason, attempt);
      this.#config.onRetry?.({ label, attempt, delayMs, reason });
      try {
        await sleep(delayMs, signal);
      } catch {
        throw new CancelledError();
      }
    }
  }

  #trace(line: string): void {
    if (this.#config.trace) this.#config.trace(scrubSecrets(line, [this.#apiKey]));
  }
}

/** An answer body passed its limit: reading stopped and the connection was cancelled. */
export class ResponseTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the answer was larger than ${formatBytes(limit)}`);
    this.name = 'ResponseTooLargeError';
    this.limit = limit;
  }
}

/** A 3xx answer to a request that must not follow redirects (its body was not read). */
export class RedirectRefusedError extends Error {
  readonly status: number;
  readonly locationHost: string | undefined;
  constructor(status: number, locationHost: string | undefined) {
    super(`redirected (HTTP ${status}) to ${locationHost ?? 'an address it did not give'}`);
    this.name = 'RedirectRefusedError';
    this.status = status;
    this.locationHost = locationHost;
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * One attempt: the caller's signal and a timeout, joined by a controller of the attempt's own.
 * Listener and timer are removed when the attempt ends (AbortSignal.any on a long-lived signal
 * keeps a reference per request in Node 20, which grows the heap of long bulk runs). The body is
 * read inside the timeout and up to `maxBytes` (default MAX_RESPONSE_BYTES.other); past that the
 * stream is cancelled and ResponseTooLargeError thrown. With `redirectsAsErrors` (and
 * `redirect: 'manual'` in init) a 3xx throws RedirectRefusedError naming the Location's host.
 */
export async function fetchWithTimeout(
  url: string,
  init: RequestInit,
  signal: AbortSignal,
  timeoutMs: number,
  limits: { maxBytes?: number; redirectsAsErrors?: boolean } = {},
): Promise<{ response: Response; text: string }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer in ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    if (limits.redirectsAsErrors && REDIRECT_STATUSES.has(response.status)) {
      controller.abort();
      throw new RedirectRefusedError(response.status, locationHost(response.headers.get('location'), url));
    }
    return { response, text: await readCapped(response, limits.maxBytes ?? MAX_RESPONSE_BYTES.other, controller) };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** The body as text, given up (stream cancelled, request aborted) past `maxBytes`, declared or read. */
async function readCapped(response: Response, maxBytes: number, controller: AbortController): Promise<string> {
  const declaredLength = response.headers.get('content-length');
  if (!response.body) {
    if (Number(declaredLength ?? Number.NaN) > maxBytes) {
      controller.abort();
      throw new ResponseTooLargeError(maxBytes);
    }
    return '';
  }
  const body = await readLimited(response.body, maxBytes, { overflow: 'stop', declaredLength });
  if (body.tooLarge) {
    controller.abort();
    throw new ResponseTooLargeError(maxBytes);
  }
  return new TextDecoder().decode(body.bytes);
}

/** The host a Location header points at (resolved against the request URL), or undefined. */
function locationHost(location: string | null, base: string): string | undefined {
  if (!location) return undefined;
  try {
    const target = new URL(location, base);
    return target.host || target.protocol.replace(/:$/, '');
  } catch {
    return 'an address that is not a URL';
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function formatSeconds(ms: number): string {
  return ms >= 10_000 || ms % 1000 === 0 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** "16 min", "3 h", "2161 days": how far a signed timestamp is from our clock. */
function formatAge(ms: number): string {
  if (ms < 2 * 3_600_000) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} days`;
}

/** The refusal of a correctly signed answer whose timestamp is outside the window, or undefined when fresh. */
function staleSignature(timestamp: string, now: number): AuthError | undefined {
  if (isFreshSignature(timestamp, { maxAgeMs: SIGNED_ANSWER_WINDOW_MS, futureMs: SIGNED_ANSWER_WINDOW_MS, now }))
    return undefined;
  const age = signedTimestampAge(timestamp, now);
  const window = `±${Math.round(SIGNED_ANSWER_WINDOW_MS / 60_000)} min`;
  const shown = printable(timestamp, 40);
  const message =
    age === undefined
      ? `The job status answer is signed with a timestamp that is not a time ("${shown}"): it was not believed.`
      : `The job status answer is signed at ${shown}, ${formatAge(Math.abs(age))} ${age > 0 ? "behind this machine's clock" : "ahead of this machine's clock"}, outside the ${window} window for signed answers: it was not believed.`;
  return new AuthError(message, {
    code: 'stale_signature',
    hint: "A replayed or held-back answer looks like this, and so does a clock that is off: check this machine's clock (`smile doctor` shows its skew against the server), then run the same command again.",
  });
}

/** Text from a server, safe to print: control characters replaced, length bounded. */
function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function badAnswer(label: string, problem: { field: string; message: string }): ApiError {
  return new ApiError(`The ${label} answer is not usable: ${problem.message}. Nothing was taken from it.`, {
    status: 200,
    code: 'bad_response',
    hint: 'Something between you and Smile ID changed the answer, or --base-url is not a Smile ID v1 API. Check the URL and any proxy (`smile doctor`); run with --debug to see the answer.',
    details: { field: problem.field },
  });
}

function redirectError(label: string, error: RedirectRefusedError): ApiError {
  const where = error.locationHost ?? 'an address it did not give';
  const what = label === 'zip upload' ? 'the zip with the selfie' : 'a signed request';
  return new ApiError(
    `The ${label} was answered with a redirect (HTTP ${error.status}) to ${where}: smile never sends ${what} on to another address.`,
    {
      status: error.status,
      code: 'redirect',
      hint:
        label === 'zip upload'
          ? "The upload URL from the prep upload redirects, which Smile ID's storage does not do: check --base-url and any proxy, then register again."
          : "Give --base-url as the API's own v1 address (e.g. https://api.smileidentity.com/v1), not one that redirects; if a proxy redirects, go around it.",
      details: { http_status: error.status, location_host: where },
    },
  );
}

function tooLargeError(label: string, error: ResponseTooLargeError): ApiError {
  return new ApiError(
    `The ${label} answer was larger than ${formatBytes(error.limit)}, smile's limit for it: reading stopped there.`,
    {
      status: 200,
      code: 'response_too_large',
      hint: "Smile ID's answers are far smaller: something between you and Smile ID (a proxy, or a --base-url that is not Smile ID) sends a broken answer. Check the URL and any proxy (`smile doctor`), then run again.",
      details: { limit_bytes: error.limit },
    },
  );
}

/** The command's deadline ran out during (or before) `label`; callers add what it means for the job. */
function deadlineError(label: string, lastReason: string | undefined, attempts: number, cause?: unknown): ApiError {
  const last = lastReason ? `; last: ${lastReason}${attempts > 1 ? ` after ${attempts} attempts` : ''}` : '';
  return new ApiError(`The ${label} did not finish before the deadline${last}.`, {
    code: 'deadline',
    hint: 'Run again with a longer --timeout, or check your network (`smile doctor`).',
    details: { step: label, attempts, ...(lastReason ? { last_failure: lastReason } : {}) },
    ...(cause === undefined ? {} : { cause }),
  });
}

function describeBody(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '';
  if (typeof body === 'string') return describeText(body);
  return `<zip ${body.byteLength} bytes>`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `{"code": "2209", "error": "…"}` (§6.4), or undefined for anything else. */
export function parseSmileError(text: string): SmileErrorBody | undefined {
  const parsed = parseJson(text) as Partial<SmileErrorBody> | undefined;
  if (!parsed || typeof parsed !== 'object') return undefined;
  const code = parsed.code;
  if (typeof code !== 'string' && typeof code !== 'number') return undefined;
  return { code: String(code), error: typeof parsed.error === 'string' ? parsed.error : '' };
}

const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_INVALID_URL',
]);

function classifyFetchError(error: unknown): AttemptFailure {
  if (
    error instanceof Error &&
    (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'))
  ) {
    return { kind: 'timeout' };
  }
  const code = networkErrorCode(error);
  return { kind: 'transport', mayHaveReachedServer: !(code && NEVER_SENT.has(code)) };
}
