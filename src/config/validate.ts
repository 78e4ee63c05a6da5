import { UsageError } from '../errors.js';

export type Environment = 'sandbox' | 'production';

/** --emulator is sandbox by nature: with --env production it is refused (undefined when they fit). */
export function emulatorConflict(flags: { emulator: boolean; env?: string | undefined }): UsageError | undefined {
  return flags.emulator && flags.env === 'production'
    ? new UsageError('--emulator and --env production do not go together.', { hint: 'Drop one of them.' })
    : undefined;
}
export const ENVIRONMENTS: readonly Environment[] = ['sandbox', 'production'];

/** v1 base URLs of smile-api.md §1.1 (the path `/v1` included, no trailing slash). */
export const DEFAULT_BASE_URLS: Readonly<Record<Environment, string>> = {
  sandbox: 'https://testapi.smileidentity.com/v1',
  production: 'https://api.smileidentity.com/v1',
};

export function defaultBaseUrl(environment: Environment): string {
  return DEFAULT_BASE_URLS[environment];
}

export function isEnvironment(value: unknown): value is Environment {
  return value === 'sandbox' || value === 'production';
}

/**
 * Parses `--env` / SMILE_ENV (case-insensitive, trimmed). `origin` names where the value came from
 * (`--env`, `SMILE_ENV`) so the message points at the thing to fix.
 */
export function parseEnvironment(value: string, origin = '--env'): Environment {
  const normalized = value.trim().toLowerCase();
  if (isEnvironment(normalized)) return normalized;
  throw new UsageError(`${origin} must be "sandbox" or "production", not ${JSON.stringify(value)}.`, {
    code: 'bad_environment',
    hint: `Pass ${origin === '--env' ? '--env sandbox' : `${origin}=sandbox`} or ${origin === '--env' ? '--env production' : `${origin}=production`}.`,
  });
}

const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const RESERVED_NAMES = new Set(['.', '..', '__proto__', 'constructor', 'prototype']);

export function isValidProfileName(name: string): boolean {
  return PROFILE_NAME.test(name) && !RESERVED_NAMES.has(name);
}

export function assertProfileName(name: string): string {
  if (!isValidProfileName(name)) {
    throw new UsageError(`Invalid profile name ${JSON.stringify(name)}.`, {
      code: 'bad_profile_name',
      hint: 'Use 1 to 64 letters, digits, ".", "_" or "-" (for example "sandbox" or "acme-prod").',
    });
  }
  return name;
}

// Smile ID partner ids are numeric strings shown zero-padded ("085"); they are signed exactly as sent,
// so the string is kept verbatim. Letters are tolerated for local emulators and future formats.
const PARTNER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Trims and checks a partner id; never converts it to a number (leading zeros matter). */
export function normalizePartnerId(value: unknown, origin = '--partner-id'): string {
  if (typeof value === 'number') {
    throw new UsageError(`${origin} must be a string, not a number (a number loses leading zeros).`, {
      code: 'bad_partner_id',
      hint: 'Quote it as it appears in the Smile ID portal, for example "085".',
    });
  }
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (trimmed === '') {
    throw new UsageError(`${origin} is empty.`, {
      code: 'bad_partner_id',
      hint: 'Use the partner id shown in the Smile ID portal, for example 085.',
    });
  }
  if (!PARTNER_ID.test(trimmed)) {
    throw new UsageError(`${origin} ${JSON.stringify(trimmed.slice(0, 80))} is not a partner id.`, {
      code: 'bad_partner_id',
      hint: 'Use the partner id shown in the Smile ID portal (digits, for example 085).',
    });
  }
  return trimmed;
}

function parseHttpUrl(value: string | URL, origin: string, code: string): URL {
  let url: URL;
  try {
    url = typeof value === 'string' ? new URL(value.trim()) : value;
  } catch {
    throw new UsageError(`${origin} is not a valid URL: ${JSON.stringify(String(value).slice(0, 200))}.`, {
      code,
      hint: 'Give an absolute URL such as https://example.com/path.',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${origin} must use https, not ${url.protocol.replace(/:$/, '')}.`, { code });
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(`${origin} must not contain a user name or password.`, { code });
  }
  return url;
}

/** True for http(s) URLs whose host is `localhost`, 127.0.0.0/8 or ::1 (also IPv4-mapped ::ffff:127.x.y.z). */
export function isLoopbackUrl(url: string | URL): boolean {
  let host: string;
  try {
    host = (typeof url === 'string' ? new URL(url.trim()) : url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host === 'localhost.') return true;
  // WHATWG URL canonicalises IPv4 ("127.1" → "127.0.0.1") and IPv6 ("0:0:0:0:0:0:0:1" → "[::1]").
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  if (host === '[::1]') return true;
  // IPv4-mapped loopback: [::ffff:7f00:1] … [::ffff:7fff:ffff]
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

/**
 * Validates a v1 base URL and returns it without trailing slashes. https always; plain http only for
 * loopback hosts (the local emulator) and never in production. Query strings and fragments are refused
 * because request paths are appended to the base.
 */
export function normalizeBaseUrl(value: string, environment: Environment, origin = '--base-url'): string {
  const url = parseHttpUrl(value, origin, 'insecure_url');
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`${origin} must not contain a query string or fragment.`, {
      code: 'bad_url',
      hint: 'Give the v1 base only, for example https://testapi.smileidentity.com/v1.',
    });
  }
  if (url.protocol === 'http:') {
    if (environment === 'production') {
      throw new UsageError(`${origin} uses plain http, which production refuses: ${url.origin}.`, {
        code: 'insecure_url',
        hint: `Use https (production is ${DEFAULT_BASE_URLS.production}).`,
      });
    }
    if (!isLoopbackUrl(url)) {
      throw new UsageError(`${origin} uses plain http for a host that is not loopback: ${url.host}.`, {
        code: 'insecure_url',
        hint: 'Use https; plain http is allowed only for localhost, 127.0.0.0/8 and ::1 (the local emulator).',
      });
    }
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Validates a callback URL: an absolute http(s) URL. Production requires https. Sandbox also accepts
 * plain http, for any host, since callbacks go to the partner's own development endpoints.
 * Returns the URL as given (trimmed); its path is the partner's and is left untouched.
 */
export function assertCallbackUrl(url: string, environment: Environment, origin = '--callback-url'): string {
  const parsed = parseHttpUrl(url, origin, 'insecure_callback_url');
  if (parsed.protocol === 'http:' && environment === 'production') {
    throw new UsageError(`${origin} must use https in production.`, {
      code: 'insecure_callback_url',
      hint: 'Use an https callback URL (plain http is accepted in sandbox only).',
    });
  }
  return url.trim();
}
