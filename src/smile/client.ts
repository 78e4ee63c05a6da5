import { ApiError, AuthError, CancelledError, RefusedError, SmileCliError } from '../errors.js';
import { lookupCode } from './codes.js';
import { redactJson, redactText, redactUrl, scrubSecrets } from './redact.js';
import { DEFAULT_RETRY, backoffDelayMs, isRetryableFailure, mayHaveTakenEffect, parseRetryAfter, sleep } from './retry.js';
import type { AttemptFailure, RetryMode, RetryPolicy } from './retry.js';
import { signedFields, verifySignature } from './sign.js';
import { SOURCE_SDK, SOURCE_SDK_VERSION, ZIP_FILE_NAME } from './package.js';
import type { GeoInfo, JobStatusResponse, PartnerParams, PrepUploadRequest, PrepUploadResponse, SmileErrorBody } from './types.js';

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

/** Smile ID's error codes that mean "the job for this job_id exists already". */
const JOB_EXISTS = '2215';

/**
 * The v1 client (smile-api.md §3–§5): prep upload, zip PUT, job_status. Keep-alive comes from
 * Node's fetch; every call has a timeout; retries follow the named modes of retry.ts; responses
 * of job_status must carry a valid signature.
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

  #sign(): { timestamp: string; signature: string } {
    return signedFields(this.#apiKey, this.partnerId, this.#config.now?.() ?? new Date());
  }

  /**
   * `POST /v1/upload`. Retried on transport errors, 408, 429 and 5xx. A re-send after an attempt
   * that may have landed can meet 2215 for our own job: that is recovered once with `retry: true`
   * (never a blind second job). `retry` forces the flag from the start (resuming a known job).
   */
  async prepUpload(input: PrepUploadInput, options: { signal: AbortSignal; retry?: boolean }): Promise<PrepUploadResult> {
    let retryFlag = options.retry === true;
    let ambiguousBefore = false;
    for (;;) {
      const { timestamp, signature } = this.#sign();
      const body: PrepUploadRequest = {
        source_sdk: SOURCE_SDK,
        source_sdk_version: SOURCE_SDK_VERSION,
        file_name: ZIP_FILE_NAME,
        smile_client_id: this.partnerId,
        timestamp,
        signature,
        partner_params: input.partnerParams,
        model_parameters: {},
        ...(input.callbackUrl ? { callback_url: input.callbackUrl } : {}),
        allow_new_enroll: input.allowNewEnroll === true,
        ...(input.useEnrolledImage ? { use_enrolled_image: true } : {}),
        ...(retryFlag ? { retry: true } : {}),
        ...(input.geo ? { geo_info: input.geo } : {}),
      };
      const response = await this.#send('POST', `${this.baseUrl}/upload`, JSON.stringify(body), { 'content-type': 'application/json' }, 'prep-upload', options.signal, 'prep upload');
      ambiguousBefore ||= response.ambiguous;
      if (response.status === 200) {
        const parsed = parseJson(response.text) as Partial<PrepUploadResponse> | undefined;
        if (!parsed || typeof parsed.upload_url !== 'string' || typeof parsed.smile_job_id !== 'string') {
          throw new ApiError('The prep upload answer had no upload URL or Smile job id.', { status: 200, hint: 'Check --base-url points at a Smile ID v1 API; run with --debug to see the answer.', code: 'bad_response' });
        }
        return { response: parsed as PrepUploadResponse, timestamp, signature, retried: retryFlag };
      }
      const error = parseSmileError(response.text);
      if (error?.code === JOB_EXISTS && !retryFlag && ambiguousBefore) {
        // Our own earlier attempt landed but its answer was lost: ask for the same job again.
        retryFlag = true;
        continue;
      }
      throw this.#httpError(response, 'prep upload', input.partnerParams);
    }
  }

  /** `PUT upload_url` with the zip (Content-Type must be application/zip, §3.6). Idempotent. */
  async uploadZip(uploadUrl: string, zip: Uint8Array, options: { signal: AbortSignal }): Promise<void> {
    const response = await this.#send('PUT', uploadUrl, zip, { 'content-type': 'application/zip', 'content-length': String(zip.byteLength) }, 'idempotent', options.signal, 'zip upload', this.#config.uploadTimeoutMs ?? 120_000);
    if (response.status < 200 || response.status >= 300) {
      throw new ApiError(`The zip upload failed with HTTP ${response.status}.`, {
        status: response.status,
        code: `http_${response.status}`,
        hint: response.status === 403 ? (lookupCode('403')?.hint ?? '') : 'Try again later; run with --debug to see the answer.',
      });
    }
  }

  /** `POST /v1/job_status`; the answer's signature is verified before it is believed. */
  async jobStatus(input: JobStatusInput, options: { signal: AbortSignal }): Promise<JobStatusResponse> {
    const { timestamp, signature } = this.#sign();
    const body = {
      partner_id: this.partnerId,
      user_id: input.userId,
      job_id: input.jobId,
      image_links: input.imageLinks === true,
      history: input.history === true,
      timestamp,
      signature,
    };
    const response = await this.#send('POST', `${this.baseUrl}/job_status`, JSON.stringify(body), { 'content-type': 'application/json' }, 'idempotent', options.signal, 'job status');
    if (response.status !== 200) throw this.#httpError(response, 'job status', { user_id: input.userId, job_id: input.jobId });
    const parsed = parseJson(response.text) as JobStatusResponse | undefined;
    if (!parsed || typeof parsed !== 'object') {
      throw new ApiError('The job status answer was not JSON.', { status: 200, code: 'bad_response', hint: 'Check --base-url; run with --debug to see the answer.' });
    }
    if (!verifySignature(this.#apiKey, this.partnerId, parsed.timestamp, parsed.signature)) {
      throw new AuthError('The job status answer is not signed with your API key: it was not believed.', {
        code: 'bad_signature',
        hint: 'Something between you and Smile ID changed the answer, or --base-url is not Smile ID. Check the URL and any proxy; `smile doctor` checks a signed round trip.',
      });
    }
    return parsed;
  }

  /** `GET /v1/services`: unauthenticated; used by doctor as a reachability probe. */
  async services(options: { signal: AbortSignal }): Promise<{ status: number; headers: Headers; text: string }> {
    return this.#send('GET', `${this.baseUrl}/services`, undefined, {}, 'none', options.signal, 'services');
  }

  #httpError(response: HttpResponse, label: string, params: Record<string, unknown>): SmileCliError {
    const body = parseSmileError(response.text);
    const details = { http_status: response.status, ...(body ? { smile_code: body.code } : {}), user_id: params['user_id'], job_id: params['job_id'] };
    if (body) {
      const info = lookupCode(body.code);
      const message = `Smile ID refused the ${label}: ${body.code} ${body.error || info?.title || ''}`.trim();
      const options = { code: body.code, hint: info?.hint ?? 'See `smile explain ' + body.code + '`.', details };
      switch (info?.exit) {
        case 'auth':
          return new AuthError(message, options);
        case 'api':
          return new ApiError(message, { ...options, status: response.status });
        case undefined:
          return response.status >= 500 ? new ApiError(message, { ...options, status: response.status }) : new RefusedError(message, options);
        default:
          return new RefusedError(message, options);
      }
    }
    if (response.status === 401 || response.status === 403) {
      return new AuthError(`The ${label} was refused with HTTP ${response.status}.`, { code: `http_${response.status}`, details, hint: 'Check the API key, partner id and environment (`smile doctor`).' });
    }
    if (response.status === 404) {
      return new ApiError(`The ${label} endpoint was not found (HTTP 404).`, { status: 404, code: 'http_404', details, hint: 'Check --base-url: it must be the v1 base including /v1.' });
    }
    return new ApiError(`The ${label} failed with HTTP ${response.status}.`, { status: response.status, code: `http_${response.status}`, details, hint: 'Try again later; run with --debug to see the answer.' });
  }

  async #send(method: string, url: string, body: string | Uint8Array | undefined, headers: Record<string, string>, mode: RetryMode, signal: AbortSignal, label: string, timeoutMs = this.#config.timeoutMs ?? 30_000): Promise<HttpResponse> {
    const maxAttempts = mode === 'none' ? 1 : Math.max(1, this.#policy.maxAttempts);
    let ambiguous = false;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new CancelledError();
      await this.#config.beforeRequest?.(signal);
      const started = performance.now();
      this.#trace(`→ ${method} ${redactUrl(url)} ${describeBody(body)}`);
      let failure: AttemptFailure;
      let reason: string;
      try {
        const { response, text } = await fetchWithTimeout(url, { method, headers, ...(body === undefined ? {} : { body }) }, signal, timeoutMs);
        this.#trace(`← ${response.status} ${method} ${redactUrl(url)} (${Math.round(performance.now() - started)} ms) ${describeText(text)}`);
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        if (response.status === 429) this.#config.onRateLimited?.(retryAfterMs ?? 1000);
        failure = { kind: 'http', status: response.status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
        if (!isRetryableFailure(failure, mode) || attempt >= maxAttempts) {
          return { status: response.status, headers: response.headers, text, ambiguous };
        }
        reason = `HTTP ${response.status}`;
      } catch (error) {
        if (signal.aborted) throw new CancelledError();
        failure = classifyFetchError(error);
        reason = failure.kind === 'timeout' ? `no answer in ${Math.round(timeoutMs / 1000)}s` : describeFetchError(error);
        this.#trace(`✗ ${method} ${redactUrl(url)} (${Math.round(performance.now() - started)} ms) ${reason}`);
        if (!isRetryableFailure(failure, mode) || attempt >= maxAttempts) {
          throw new ApiError(`The ${label} failed: ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}.`, {
            code: failure.kind === 'timeout' ? 'timeout' : 'network',
            hint: `Check your network and that ${new URL(url).host} is reachable (\`smile doctor\`), then run the same command again.`,
            cause: error,
          });
        }
      }
      ambiguous ||= mayHaveTakenEffect(failure);
      const delayMs = backoffDelayMs(this.#policy, attempt, failure.kind === 'http' ? failure.retryAfterMs : undefined, this.#config.random);
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

/**
 * One attempt: the caller's signal and a timeout, joined by a controller of the attempt's own.
 * Listener and timer are removed when the attempt ends (AbortSignal.any on a long-lived signal
 * keeps a reference per request in Node 20, which grows the heap of long bulk runs).
 */
export async function fetchWithTimeout(url: string, init: RequestInit, signal: AbortSignal, timeoutMs: number): Promise<{ response: Response; text: string }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer in ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    return { response, text: await response.text() };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function describeBody(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '';
  if (typeof body === 'string') return describeText(body);
  return `<zip ${body.byteLength} bytes>`;
}

function describeText(text: string): string {
  const parsed = parseJson(text);
  if (parsed !== undefined) return JSON.stringify(redactJson(parsed));
  const redacted = redactText(text);
  return redacted.length > 300 ? `${redacted.slice(0, 300)}… (${redacted.length} chars)` : redacted;
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

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function classifyFetchError(error: unknown): AttemptFailure {
  if (error instanceof Error && (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'))) {
    return { kind: 'timeout' };
  }
  const code = errorCode(error);
  return { kind: 'transport', mayHaveReachedServer: !(code && NEVER_SENT.has(code)) };
}

function describeFetchError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found (DNS)';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was dropped';
  if (code && /CERT|SSL|TLS/i.test(code)) return `TLS error (${code})`;
  const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return code ? `${message} (${code})` : message;
}
