/**
 * The probes of `smile doctor` (DNS, TCP, TLS, a signed HTTP round trip) and the verdicts on what
 * they found. src/doctor/run.ts runs them in order.
 */
import { randomUUID } from 'node:crypto';
import { CancelledError } from '../errors.js';
import type { Environment } from '../config/validate.js';
import { describeNetworkError } from '../http/network-error.js';
import { describeText, redactJson, redactUrl, scrubSecrets } from '../smile/redact.js';
import { MAX_RESPONSE_BYTES, RedirectRefusedError, ResponseTooLargeError, fetchWithTimeout } from '../smile/client.js';
import {
  SIGNED_ANSWER_WINDOW_MS,
  isFreshSignature,
  signedFields,
  signedTimestampAge,
  verifySignature,
} from '../smile/sign.js';

/**
 * Largest clock difference doctor accepts against the server's `Date` header. Smile ID's allowed
 * window for request timestamps is UNVERIFIED (smile-api.md §2.1: the server evidently checks the
 * timestamp — a Python SDK fix for local-vs-UTC time cured 2205s — but the tolerance is not
 * published). 60 s is far inside any plausible window while far above what the measurement can
 * get wrong (`Date` has 1 s resolution, plus half a round trip), and any NTP-synced host is
 * within a second, so a larger skew means a clock that needs fixing before it causes 2205s.
 */
export const CLOCK_SKEW_LIMIT_MS = 60_000;
/** Timeouts of the reachability probes: long enough for a slow link, short enough for 2 a.m. */
export const DNS_TIMEOUT_MS = 5_000;
export const CONNECT_TIMEOUT_MS = 5_000;
export const HTTP_TIMEOUT_MS = 10_000;

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** One line of `smile doctor`: a `fail` blocks use (exit 3), a `warn` should be fixed but does not. */
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** What the network checks talk to. `apiKey`/`partnerId` are absent when credentials are missing. */
export interface DoctorTarget {
  baseUrl: string;
  environment: Environment;
  partnerId: string | undefined;
  apiKey: string | undefined;
}

/** A check line; `fix` only where there is one. */
export const check = (name: string, status: CheckStatus, detail: string, fix?: string): DoctorCheck => ({
  name,
  status,
  detail,
  ...(fix === undefined ? {} : { fix }),
});

/** The addresses of a host name (an IP address is its own), within DNS_TIMEOUT_MS. */
export async function lookupAddresses(host: string): Promise<string[]> {
  const { isIP } = await import('node:net');
  if (isIP(host) !== 0) return [host];
  const { lookup } = await import('node:dns/promises');
  const found = await withTimeout(
    lookup(host, { all: true }),
    DNS_TIMEOUT_MS,
    `no answer in ${DNS_TIMEOUT_MS / 1000} s`,
  );
  return found.map((entry) => entry.address);
}

/** Open and close a TCP connection; resolves with how long connecting took, in ms. */
export async function tcpConnect(address: string, port: number, signal: AbortSignal): Promise<number> {
  const net = await import('node:net');
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: address, port, timeout: CONNECT_TIMEOUT_MS, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer in ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', reject);
  });
  return Math.round(performance.now() - started);
}

/** A TLS handshake with `host` (its name checked against the certificate); resolves with what was agreed. */
export async function tlsHandshake(address: string, host: string, port: number, signal: AbortSignal): Promise<string> {
  const tls = await import('node:tls');
  const net = await import('node:net');
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({
      host: address,
      port,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      timeout: CONNECT_TIMEOUT_MS,
    });
    const onAbort = () => socket.destroy(new Error('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const protocol = socket.getProtocol() ?? 'TLS';
      socket.destroy();
      const validTo = cert.valid_to ? new Date(cert.valid_to) : undefined;
      const days = validTo ? Math.floor((validTo.getTime() - Date.now()) / 86_400_000) : undefined;
      const subject = cert.subject?.CN ?? host;
      resolve(
        `${protocol}, certificate for ${Array.isArray(subject) ? subject.join(', ') : subject}${days === undefined ? '' : `, valid for ${days} more day${days === 1 ? '' : 's'}`}`,
      );
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(Object.assign(new Error(`no handshake in ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', reject);
  });
}

/**
 * `job_status` for a job that does not exist, signed with our key: the answer tells whether the
 * server accepts our signature (key, partner id, clock), and its `Date` header gives the clock skew.
 */
export async function signedRoundTrip(
  ctx: { signal: AbortSignal; trace(line: string): void },
  target: DoctorTarget & { apiKey: string; partnerId: string },
): Promise<{ clock: DoctorCheck; roundTrip: DoctorCheck }> {
  const url = `${target.baseUrl.replace(/\/+$/, '')}/job_status`;
  const body = {
    partner_id: target.partnerId,
    user_id: 'smile-doctor',
    job_id: `smile-doctor-${randomUUID()}`,
    image_links: false,
    history: false,
    ...signedFields(target.apiKey, target.partnerId),
  };
  const trace = (line: string) => ctx.trace(scrubSecrets(line, [target.apiKey]));
  trace(`→ POST ${redactUrl(url)} ${JSON.stringify(redactJson(body))}`);
  const started = Date.now();
  let response: Response;
  let text: string;
  try {
    // The same protections as every signed call: no redirect (it would re-send the signature), a capped body.
    ({ response, text } = await fetchWithTimeout(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
      },
      ctx.signal,
      HTTP_TIMEOUT_MS,
      { maxBytes: MAX_RESPONSE_BYTES.jobStatus, redirectsAsErrors: true },
    ));
  } catch (error) {
    if (ctx.signal.aborted) throw new CancelledError('Interrupted: doctor stopped before all checks ran.');
    if (error instanceof RedirectRefusedError || error instanceof ResponseTooLargeError) {
      trace(`✗ POST ${redactUrl(url)} ${error.message}`);
      return {
        clock: check('clock', 'skip', 'skipped: the answer was refused before its Date header could be used'),
        roundTrip: check(
          'round_trip',
          'fail',
          `job_status was ${error.message}: smile refuses such answers`,
          'Check the base URL (the v1 base including /v1) and any proxy in between: Smile ID answers job_status itself, briefly.',
        ),
      };
    }
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer in ${HTTP_TIMEOUT_MS / 1000} s`
        : describeNetworkError(error);
    trace(`✗ POST ${redactUrl(url)} ${reason}`);
    return {
      clock: check('clock', 'skip', 'skipped: no HTTP answer to read the Date header from'),
      roundTrip: check(
        'round_trip',
        'fail',
        `job_status got no answer: ${reason}`,
        'The host is reachable but does not answer HTTP in time: check the base URL, any proxy, and try again.',
      ),
    };
  }
  const finished = Date.now();
  trace(`← ${response.status} POST ${redactUrl(url)} (${finished - started} ms) ${describeText(text)}`);
  return {
    clock: judgeClockSkew(response.headers.get('date'), started, finished),
    roundTrip: judgeRoundTrip(response.status, text, target.apiKey, target.partnerId, target.environment),
  };
}

/** Clock skew from a `Date` header against the middle of the request (`Date` has 1 s resolution). */
export function judgeClockSkew(
  dateHeader: string | null,
  sentAt: number,
  receivedAt: number,
  limitMs = CLOCK_SKEW_LIMIT_MS,
): DoctorCheck {
  const serverMs = dateHeader === null ? Number.NaN : Date.parse(dateHeader);
  if (Number.isNaN(serverMs)) {
    return check(
      'clock',
      'warn',
      'the server sent no usable Date header: clock skew unknown',
      'Make sure the system clock is synchronised (NTP): Smile ID checks request timestamps.',
    );
  }
  // The header is truncated to the second: the server's time lies in [serverMs, serverMs + 1000).
  const skewMs = serverMs + 500 - (sentAt + receivedAt) / 2;
  const direction = skewMs > 0 ? 'behind' : 'ahead of';
  if (Math.abs(skewMs) <= limitMs) {
    return check(
      'clock',
      'pass',
      `within ${formatDuration(Math.max(Math.abs(skewMs), 1000))} of the server's clock (limit ${formatDuration(limitMs)})`,
    );
  }
  return check(
    'clock',
    'fail',
    `this machine's clock is ${formatDuration(Math.abs(skewMs))} ${direction} the server's (limit ${formatDuration(limitMs)}): signed requests may be refused with 2205`,
    'Synchronise the system clock: Linux `sudo timedatectl set-ntp true`, macOS `sudo sntp -sS time.apple.com`, Windows Settings › Time › Sync now; in containers fix the host clock.',
  );
}

/**
 * The verdict on the signed job_status for a job that does not exist: a signature in the answer
 * must verify with our key; 2205/2405 means the key, partner id or clock is wrong; any other Smile
 * ID error body (e.g. job not found) means the request's signature was accepted.
 */
export function judgeRoundTrip(
  status: number,
  text: string,
  apiKey: string,
  partnerId: string,
  environment: string,
): DoctorCheck {
  const name = 'round_trip';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return check(
      name,
      'fail',
      `job_status answered HTTP ${status} with no JSON body: this does not look like the Smile ID v1 API`,
      'Check the base URL: it must be the v1 base including /v1 (e.g. https://testapi.smileidentity.com/v1).',
    );
  }
  const fields = body as Record<string, unknown>;
  const code =
    typeof fields['code'] === 'string' || typeof fields['code'] === 'number' ? String(fields['code']) : undefined;
  const error = typeof fields['error'] === 'string' ? fields['error'] : '';
  const keyFix = `Check that the API key and partner id ${partnerId} belong together and to ${environment} (sandbox and production keys differ; \`smile profile add NAME --partner-id ID --env ${environment} --force\` stores a new key), and the clock line above.`;
  if (code === '2205' || code === '2405') {
    return check(
      name,
      'fail',
      `Smile ID refused the signed request: ${code} ${error || 'not authorized'} (wrong API key, partner id, environment or clock)`,
      keyFix,
    );
  }
  if ('signature' in fields || status === 200) {
    if (!verifySignature(apiKey, partnerId, fields['timestamp'], fields['signature'])) {
      return check(
        name,
        'fail',
        `job_status answered HTTP ${status} ${'signature' in fields ? 'with a signature that does not verify with your API key' : 'without a signature'}: answers would not be believed`,
        `Something between you and Smile ID changes the answers, or the base URL is not Smile ID, or the key is not partner ${partnerId}'s. ${keyFix}`,
      );
    }
    const timestamp = String(fields['timestamp']);
    if (!isFreshSignature(timestamp, { maxAgeMs: SIGNED_ANSWER_WINDOW_MS })) {
      const age = signedTimestampAge(timestamp);
      const off =
        age === undefined
          ? 'at a time that cannot be read'
          : `${Math.round(Math.abs(age) / 60_000)} min ${age > 0 ? 'before' : 'after'} this machine's clock`;
      return check(
        name,
        'fail',
        `job_status answered with a valid signature made ${off}: answers outside ±${SIGNED_ANSWER_WINDOW_MS / 60_000} min are not believed`,
        "Set this machine's clock right (the clock line above shows the skew), or find what replays old answers between you and Smile ID.",
      );
    }
    return check(
      name,
      'pass',
      `job_status answered HTTP ${status}${code ? ` (code ${code})` : ''}, signed with your API key: key, partner id and clock are accepted`,
    );
  }
  if (code !== undefined) {
    return check(
      name,
      'pass',
      `the signed request was accepted: Smile ID answered HTTP ${status} ${code}${error ? ` ${error}` : ''} for a job that does not exist, as expected`,
    );
  }
  if (status === 401 || status === 403) {
    return check(name, 'fail', `job_status was refused with HTTP ${status}`, keyFix);
  }
  return check(
    name,
    'fail',
    `job_status answered HTTP ${status} without a Smile ID error code`,
    'Check the base URL (the v1 base including /v1) and any proxy in between; run with --debug to see the answer.',
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'ETIMEDOUT' })), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min${seconds % 60 === 0 ? '' : ` ${seconds % 60} s`}`;
  return `${(minutes / 60).toFixed(1)} h`;
}
