import { randomUUID } from 'node:crypto';
import type { RunContext } from '../context.js';
import { CancelledError, ExitCode, isSmileCliError } from '../errors.js';
import type { PartialSettings, Source } from '../config/resolve.js';
import { redactJson, redactUrl, scrubSecrets } from '../smile/redact.js';
import { MAX_RESPONSE_BYTES, RedirectRefusedError, ResponseTooLargeError, fetchWithTimeout } from '../smile/client.js';
import { SIGNED_ANSWER_WINDOW_MS, isFreshSignature, signedFields, signedTimestampAge, verifySignature } from '../smile/sign.js';

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

export interface DoctorReport {
  ok: boolean;
  checks: { name: string; ok: boolean; status: CheckStatus; detail: string; fix?: string }[];
}

/** What the network checks talk to. `apiKey`/`partnerId` are absent when credentials are missing. */
interface DoctorTarget {
  baseUrl: string;
  environment: 'sandbox' | 'production';
  partnerId: string | undefined;
  apiKey: string | undefined;
}

const check = (name: string, status: CheckStatus, detail: string, fix?: string): DoctorCheck => ({ name, status, detail, ...(fix === undefined ? {} : { fix }) });

/** `smile doctor`: one line per check with the fix; exit 3 when something blocks use. */
export async function runDoctor(ctx: RunContext): Promise<number> {
  const checks: DoctorCheck[] = [];
  const target = ctx.globals.emulator ? await emulatorTarget(ctx, checks) : await settingsTarget(ctx, checks);
  if (target) checks.push(...(await networkChecks(ctx, target)));
  if (ctx.signal.aborted) throw new CancelledError('Interrupted: doctor stopped before all checks ran.');
  const report = doctorReport(checks);
  ctx.out.result(report, () => renderDoctor(checks, ctx));
  return report.ok ? ExitCode.ok : ExitCode.auth;
}

export function doctorReport(checks: readonly DoctorCheck[]): DoctorReport {
  return {
    ok: !checks.some((item) => item.status === 'fail'),
    checks: checks.map((item) => ({ name: item.name, ok: item.status === 'pass', status: item.status, detail: item.detail, ...(item.fix === undefined ? {} : { fix: item.fix }) })),
  };
}

function renderDoctor(checks: readonly DoctorCheck[], ctx: RunContext): string {
  const symbols = { pass: ctx.out.paint('green', '✓'), warn: ctx.out.paint('yellow', '!'), fail: ctx.out.paint('red', '✗'), skip: ctx.out.paint('dim', '–') };
  const width = Math.max(...checks.map((item) => item.name.length));
  const lines: string[] = [];
  for (const item of checks) {
    lines.push(`${symbols[item.status]} ${item.name.padEnd(width)}  ${item.detail}`);
    if (item.fix && item.status !== 'pass') lines.push(`  ${' '.repeat(width)}  → ${item.fix}`);
  }
  const failed = checks.filter((item) => item.status === 'fail').length;
  const warned = checks.filter((item) => item.status === 'warn').length;
  if (failed > 0) lines.push(`${failed} problem${failed === 1 ? '' : 's'} block${failed === 1 ? 's' : ''} use: fix the ✗ lines above, then run \`smile doctor\` again.`);
  else if (warned > 0) lines.push(`Ready to use; ${warned} warning${warned === 1 ? '' : 's'} worth fixing (! lines above).`);
  else lines.push('Ready: every check passed.');
  return lines.join('\n');
}

async function emulatorTarget(ctx: RunContext, checks: DoctorCheck[]): Promise<DoctorTarget | undefined> {
  if (ctx.globals.env === 'production') {
    checks.push(check('settings', 'fail', '--emulator and --env production do not go together.', 'Drop one of them.'));
    return undefined;
  }
  const { startEmulator } = await import('../emulator/index.js');
  const emulator = await startEmulator({ port: 0 });
  ctx.onCleanup(() => emulator.close());
  checks.push(check('profile', 'pass', 'none: --emulator runs an in-process emulator with its own throwaway credentials'));
  checks.push(check('environment', 'pass', 'sandbox (emulator)'));
  checks.push(check('partner_id', 'pass', `${emulator.partnerId} (the emulator's)`));
  checks.push(check('credentials', 'pass', "the emulator's throwaway API key (not a Smile ID key)"));
  checks.push(check('base_url', 'pass', `${emulator.baseUrl} (http on loopback: the local emulator)`));
  return { baseUrl: emulator.baseUrl, environment: 'sandbox', partnerId: emulator.partnerId, apiKey: emulator.apiKey };
}

const SOURCE_LABELS: Record<string, Partial<Record<Source, string>>> = {
  profile: { flag: '--profile', env: 'SMILE_PROFILE', default: 'the current profile (smile profile use)' },
  environment: { flag: '--env', env: 'SMILE_ENV', profile: 'the profile', default: 'the default' },
  partnerId: { env: 'SMILE_PARTNER_ID', profile: 'the profile' },
  baseUrl: { flag: '--base-url', env: 'SMILE_BASE_URL', profile: 'the profile', default: "the environment's default" },
};

function from(setting: keyof typeof SOURCE_LABELS, source: Source | undefined): string {
  return source === undefined ? '' : ` (from ${SOURCE_LABELS[setting]?.[source] ?? source})`;
}

async function settingsTarget(ctx: RunContext, checks: DoctorCheck[]): Promise<DoctorTarget | undefined> {
  const { resolveSettings } = await import('../config/resolve.js');
  const { globals } = ctx;
  let settings: PartialSettings;
  try {
    settings = await resolveSettings({
      flags: {
        ...(globals.profile === undefined ? {} : { profile: globals.profile }),
        ...(globals.env === undefined ? {} : { env: globals.env }),
        ...(globals.baseUrl === undefined ? {} : { baseUrl: globals.baseUrl }),
      },
      env: ctx.env,
      partial: true,
    });
  } catch (error) {
    if (!isSmileCliError(error)) throw error;
    checks.push(check('settings', 'fail', error.message, error.hint ?? 'Fix the setting named above.'));
    return undefined;
  }

  checks.push(
    settings.profileName === undefined
      ? check('profile', 'pass', 'none: settings come from flags and environment variables')
      : check('profile', 'pass', `"${settings.profileName}"${from('profile', settings.sources.profile)}`),
  );
  checks.push(check('environment', 'pass', `${settings.environment}${from('environment', settings.sources.environment)}${settings.environment === 'production' ? ': real registrations' : ''}`));
  const addProfile = `smile profile add ${settings.profileName ?? 'NAME'} --partner-id ID --env ${settings.environment}${settings.profileName === undefined ? '' : ' --force'}`;
  checks.push(
    settings.partnerId === undefined
      ? check('partner_id', 'fail', 'no partner id: no profile gives one and SMILE_PARTNER_ID is not set', `Run \`${addProfile}\`, or set SMILE_PARTNER_ID.`)
      : check('partner_id', 'pass', `${settings.partnerId}${from('partnerId', settings.sources.partnerId)}`),
  );
  checks.push(await credentialsCheck(settings, addProfile, ctx.env));
  checks.push(baseUrlCheck(settings));
  return { baseUrl: settings.baseUrl, environment: settings.environment, partnerId: settings.partnerId, apiKey: settings.apiKey };
}

async function credentialsCheck(settings: PartialSettings, addProfile: string, env: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  if (settings.apiKey === undefined) {
    return check('credentials', 'fail', 'no API key: none stored for the profile, and SMILE_API_KEY / SMILE_API_KEY_FILE are not set', `Run \`${addProfile}\` (it asks for the key without echo), or set SMILE_API_KEY_FILE to a file holding it.`);
  }
  const { credentialsFileMode, formatMode } = await import('../config/credentials.js');
  switch (settings.sources.apiKey) {
    case 'env':
      return check('credentials', 'pass', 'API key from SMILE_API_KEY');
    case 'file': {
      const file = env['SMILE_API_KEY_FILE']?.trim() ?? '';
      const { fileMode } = await import('../config/paths.js');
      const mode = process.platform === 'win32' ? undefined : await fileMode(file).catch(() => undefined);
      if (mode !== undefined && (mode & 0o077) !== 0) {
        return check('credentials', 'warn', `API key from SMILE_API_KEY_FILE ${file}, whose mode ${formatMode(mode)} lets others read it`, `chmod 600 ${shellQuote(file)}`);
      }
      return check('credentials', 'pass', `API key from SMILE_API_KEY_FILE ${file}${mode === undefined ? '' : ` (mode ${formatMode(mode)})`}`);
    }
    default: {
      const status = await credentialsFileMode(settings.configDir);
      const where = `API key of profile "${settings.profileName ?? '?'}" from ${status.path}`;
      if (status.tooOpen && status.mode !== undefined) {
        return check('credentials', 'warn', `${where}, whose mode ${formatMode(status.mode)} lets others read it (should be 0600)`, `chmod 600 ${shellQuote(status.path)}`);
      }
      if (status.dirTooOpen && status.dirMode !== undefined) {
        return check('credentials', 'warn', `${where}; its directory has mode ${formatMode(status.dirMode)} (should be 0700)`, `chmod 700 ${shellQuote(settings.configDir)}`);
      }
      return check('credentials', 'pass', `${where}${status.mode === undefined ? '' : ` (mode ${formatMode(status.mode)})`}`);
    }
  }
}

function baseUrlCheck(settings: PartialSettings): DoctorCheck {
  const url = new URL(settings.baseUrl);
  const origin = from('baseUrl', settings.sources.baseUrl);
  if (url.protocol === 'https:') return check('base_url', 'pass', `${settings.baseUrl}${origin}`);
  // resolveSettings refuses plain http except for loopback hosts outside production.
  return check('base_url', 'pass', `${settings.baseUrl}${origin}: plain http, allowed only because the host is loopback (a local emulator)`);
}

async function networkChecks(ctx: RunContext, target: DoctorTarget): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const url = new URL(target.baseUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const tlsUsed = url.protocol === 'https:';
  const port = Number(url.port || (tlsUsed ? 443 : 80));
  const skipAll = (reason: string) => {
    for (const name of ['dns', 'tcp', 'tls', 'clock', 'round_trip']) {
      if (!checks.some((item) => item.name === name)) checks.push(check(name, 'skip', `skipped: ${reason}`));
    }
    return checks;
  };

  const net = await import('node:net');
  let addresses: string[];
  if (net.isIP(host) !== 0) {
    addresses = [host];
    checks.push(check('dns', 'pass', `${host} is an IP address: no lookup needed`));
  } else {
    try {
      const { lookup } = await import('node:dns/promises');
      const found = await withTimeout(lookup(host, { all: true }), DNS_TIMEOUT_MS, `no answer in ${DNS_TIMEOUT_MS / 1000} s`);
      addresses = found.map((entry) => entry.address);
      checks.push(check('dns', 'pass', `${host} → ${addresses.slice(0, 3).join(', ')}${addresses.length > 3 ? ` (+${addresses.length - 3})` : ''}`));
    } catch (error) {
      checks.push(check('dns', 'fail', `cannot resolve ${host}: ${describeNetworkError(error)}`, 'Check the host in the base URL, and your network, DNS, VPN or proxy settings.'));
      return skipAll('the host did not resolve');
    }
  }

  let connected: string | undefined;
  let lastError: unknown;
  for (const address of addresses) {
    try {
      const ms = await tcpConnect(net, address, port, ctx.signal);
      connected = address;
      checks.push(check('tcp', 'pass', `connected to ${net.isIPv6(address) ? `[${address}]` : address}:${port} in ${ms} ms`));
      break;
    } catch (error) {
      lastError = error;
      if (ctx.signal.aborted) return skipAll('interrupted');
    }
  }
  if (connected === undefined) {
    checks.push(check('tcp', 'fail', `cannot connect to ${host}:${port}: ${describeNetworkError(lastError)}`, `Check that a firewall or proxy lets this machine reach ${host} on port ${port}${url.hostname === '127.0.0.1' || host === 'localhost' ? ' (is the emulator running?)' : ''}.`));
    return skipAll(`no connection to ${host}:${port}`);
  }

  if (!tlsUsed) {
    checks.push(check('tls', 'skip', 'plain http on loopback: no TLS to check'));
  } else {
    try {
      checks.push(check('tls', 'pass', await tlsHandshake(connected, host, port, ctx.signal)));
    } catch (error) {
      checks.push(check('tls', 'fail', `TLS handshake with ${host} failed: ${describeNetworkError(error)}`, "If a TLS-inspecting proxy sits in between, point NODE_EXTRA_CA_CERTS at its CA certificate (for `smile emulator --tls`, at the printed ca_cert); check the system clock too (certificates have validity dates)."));
      return skipAll('no TLS connection');
    }
  }

  if (target.apiKey === undefined || target.partnerId === undefined) {
    checks.push(check('clock', 'skip', 'skipped: the clock is compared on the signed round trip, which needs credentials'));
    checks.push(check('round_trip', 'skip', 'skipped: no credentials to sign with'));
    return checks;
  }
  const trip = await signedRoundTrip(ctx, target as DoctorTarget & { apiKey: string; partnerId: string });
  checks.push(trip.clock, trip.roundTrip);
  return checks;
}

async function tcpConnect(net: typeof import('node:net'), address: string, port: number, signal: AbortSignal): Promise<number> {
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

async function tlsHandshake(address: string, host: string, port: number, signal: AbortSignal): Promise<string> {
  const tls = await import('node:tls');
  const net = await import('node:net');
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: address, port, ...(net.isIP(host) === 0 ? { servername: host } : {}), timeout: CONNECT_TIMEOUT_MS });
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
      resolve(`${protocol}, certificate for ${Array.isArray(subject) ? subject.join(', ') : subject}${days === undefined ? '' : `, valid for ${days} more day${days === 1 ? '' : 's'}`}`);
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
async function signedRoundTrip(ctx: RunContext, target: DoctorTarget & { apiKey: string; partnerId: string }): Promise<{ clock: DoctorCheck; roundTrip: DoctorCheck }> {
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
    ({ response, text } = await fetchWithTimeout(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), redirect: 'manual' }, ctx.signal, HTTP_TIMEOUT_MS, { maxBytes: MAX_RESPONSE_BYTES.jobStatus, redirectsAsErrors: true }));
  } catch (error) {
    if (ctx.signal.aborted) throw new CancelledError('Interrupted: doctor stopped before all checks ran.');
    if (error instanceof RedirectRefusedError || error instanceof ResponseTooLargeError) {
      trace(`✗ POST ${redactUrl(url)} ${error.message}`);
      return {
        clock: check('clock', 'skip', 'skipped: the answer was refused before its Date header could be used'),
        roundTrip: check('round_trip', 'fail', `job_status was ${error.message}: smile refuses such answers`, 'Check the base URL (the v1 base including /v1) and any proxy in between: Smile ID answers job_status itself, briefly.'),
      };
    }
    const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer in ${HTTP_TIMEOUT_MS / 1000} s` : describeNetworkError(error);
    trace(`✗ POST ${redactUrl(url)} ${reason}`);
    return {
      clock: check('clock', 'skip', 'skipped: no HTTP answer to read the Date header from'),
      roundTrip: check('round_trip', 'fail', `job_status got no answer: ${reason}`, 'The host is reachable but does not answer HTTP in time: check the base URL, any proxy, and try again.'),
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
export function judgeClockSkew(dateHeader: string | null, sentAt: number, receivedAt: number, limitMs = CLOCK_SKEW_LIMIT_MS): DoctorCheck {
  const serverMs = dateHeader === null ? Number.NaN : Date.parse(dateHeader);
  if (Number.isNaN(serverMs)) {
    return check('clock', 'warn', 'the server sent no usable Date header: clock skew unknown', 'Make sure the system clock is synchronised (NTP): Smile ID checks request timestamps.');
  }
  // The header is truncated to the second: the server's time lies in [serverMs, serverMs + 1000).
  const skewMs = serverMs + 500 - (sentAt + receivedAt) / 2;
  const direction = skewMs > 0 ? 'behind' : 'ahead of';
  if (Math.abs(skewMs) <= limitMs) {
    return check('clock', 'pass', `within ${formatDuration(Math.max(Math.abs(skewMs), 1000))} of the server's clock (limit ${formatDuration(limitMs)})`);
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
export function judgeRoundTrip(status: number, text: string, apiKey: string, partnerId: string, environment: string): DoctorCheck {
  const name = 'round_trip';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return check(name, 'fail', `job_status answered HTTP ${status} with no JSON body: this does not look like the Smile ID v1 API`, 'Check the base URL: it must be the v1 base including /v1 (e.g. https://testapi.smileidentity.com/v1).');
  }
  const fields = body as Record<string, unknown>;
  const code = typeof fields['code'] === 'string' || typeof fields['code'] === 'number' ? String(fields['code']) : undefined;
  const error = typeof fields['error'] === 'string' ? fields['error'] : '';
  const keyFix = `Check that the API key and partner id ${partnerId} belong together and to ${environment} (sandbox and production keys differ; \`smile profile add NAME --partner-id ID --env ${environment} --force\` stores a new key), and the clock line above.`;
  if (code === '2205' || code === '2405') {
    return check(name, 'fail', `Smile ID refused the signed request: ${code} ${error || 'not authorized'} (wrong API key, partner id, environment or clock)`, keyFix);
  }
  if ('signature' in fields || status === 200) {
    if (!verifySignature(apiKey, partnerId, fields['timestamp'], fields['signature'])) {
      return check(name, 'fail', `job_status answered HTTP ${status} ${'signature' in fields ? 'with a signature that does not verify with your API key' : 'without a signature'}: answers would not be believed`, `Something between you and Smile ID changes the answers, or the base URL is not Smile ID, or the key is not partner ${partnerId}'s. ${keyFix}`);
    }
    const timestamp = String(fields['timestamp']);
    if (!isFreshSignature(timestamp, { maxAgeMs: SIGNED_ANSWER_WINDOW_MS })) {
      const age = signedTimestampAge(timestamp);
      const off = age === undefined ? 'at a time that cannot be read' : `${Math.round(Math.abs(age) / 60_000)} min ${age > 0 ? 'before' : 'after'} this machine's clock`;
      return check(name, 'fail', `job_status answered with a valid signature made ${off}: answers outside ±${SIGNED_ANSWER_WINDOW_MS / 60_000} min are not believed`, 'Set this machine\'s clock right (the clock line above shows the skew), or find what replays old answers between you and Smile ID.');
    }
    return check(name, 'pass', `job_status answered HTTP ${status}${code ? ` (code ${code})` : ''}, signed with your API key: key, partner id and clock are accepted`);
  }
  if (code !== undefined) {
    return check(name, 'pass', `the signed request was accepted: Smile ID answered HTTP ${status} ${code}${error ? ` ${error}` : ''} for a job that does not exist, as expected`);
  }
  if (status === 401 || status === 403) {
    return check(name, 'fail', `job_status was refused with HTTP ${status}`, keyFix);
  }
  return check(name, 'fail', `job_status answered HTTP ${status} without a Smile ID error code`, 'Check the base URL (the v1 base including /v1) and any proxy in between; run with --debug to see the answer.');
}

function describeText(text: string): string {
  try {
    return JSON.stringify(redactJson(JSON.parse(text)));
  } catch {
    return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const codeText = typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined;
  const known: Record<string, string> = {
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'DNS lookup failed (temporary)',
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'timed out',
  };
  const message = error instanceof Error ? error.message : String(error);
  if (codeText && known[codeText]) return `${known[codeText]} (${codeText})`;
  return codeText && !message.includes(codeText) ? `${message} (${codeText})` : message;
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

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./~-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
