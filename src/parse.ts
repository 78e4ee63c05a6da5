import { randomUUID } from 'node:crypto';
import { UsageError, printable } from './errors.js';
import type { GeoInfo } from './smile/types.js';

/**
 * Values typed by people (flags, CSV cells) → checked values; a bad one is a UsageError that
 * names the flag. Leaf module: commands, bulk rows and the guided form all parse with these.
 */

/** A duration as typed (for messages: "--timeout 90s ran out") and in milliseconds. */
export interface Duration {
  text: string;
  ms: number;
}

/** How long register, status and bulk wait for a result unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT = '120s';

/** `120s`, `2m`, `1h`, `500ms`, or a plain number of seconds → milliseconds. */
export function parseDuration(value: string, flag = '--timeout'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!match) throw new UsageError(`${flag} takes a duration like 90s, 2m or 500ms, not "${value}".`);
  const amount = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(amount * factor);
}

/** parseDuration, keeping what was typed. */
export function parseDurationText(value: string, flag = '--timeout'): Duration {
  return { text: value.trim(), ms: parseDuration(value, flag) };
}

/**
 * The shortest `--interval` between job_status looks: the official SDK's own pace (2 s), which
 * also keeps a fixed schedule (30 a minute) under the 40-a-minute bound of src/register/schedule.ts.
 */
export const MIN_POLL_INTERVAL_MS = 2000;

/** `--interval 5s`: a fixed time between job_status looks, no shorter than MIN_POLL_INTERVAL_MS. */
export function parsePollInterval(value: string, flag = '--interval'): Duration {
  const parsed = parseDurationText(value, flag);
  if (parsed.ms < MIN_POLL_INTERVAL_MS)
    throw new UsageError(`${flag} ${printable(parsed.text, 40)} is too short: looks go at most every 2s.`, {
      hint: `Give ${flag} 2s or more, or leave it out for the learned schedule (fast when results come fast).`,
    });
  return parsed;
}

/**
 * `--max-age`: a duration as parseDuration takes it, or whole or decimal days (`30d`); longer than
 * 0. `defaultText` names the default in the hint.
 */
export function parseMaxAge(value: string, defaultText: string): Duration {
  const days = /^\s*(\d+(?:\.\d+)?)\s*d\s*$/i.exec(value);
  let ms: number;
  try {
    ms = days ? Math.round(Number(days[1]) * 86_400_000) : parseDuration(value, '--max-age');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`--max-age takes a duration like 90m, 24h or 30d, not "${printable(value, 40)}".`, {
      hint: `The default is ${defaultText}; a body saved earlier and checked now needs its age, e.g. --max-age 30d.`,
    });
  }
  if (!Number.isFinite(ms) || ms <= 0)
    throw new UsageError(`--max-age must be longer than 0, not "${printable(value, 40)}".`, {
      hint: 'To check a body of any age, give a long one, e.g. --max-age 3650d.',
    });
  return { text: value.trim(), ms };
}

/** A whole number such as `--concurrency 8`. */
export function parseWholeNumber(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} takes a whole number, not "${value}".`);
  return Number(value);
}

/** A finite number such as `--rate 2.5`. */
export function parseNumber(value: string, flag: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`${flag} takes a number, not "${value}".`);
  return parsed;
}

/** `LAT,LON[,ALT]` with latitude in [-90, 90], longitude in [-180, 180], altitude a finite number (metres). */
export function parseGeo(value: string, flag = '--geo'): GeoInfo {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '' || !/^[-+]?\d+(\.\d+)?$/.test(part))) {
    throw new UsageError(
      `${flag} takes LAT,LON or LAT,LON,ALT in decimal degrees (and metres), e.g. -1.2921,36.8219,1795; got "${value}".`,
    );
  }
  const [latitude, longitude, altitude] = parts.map(Number) as [number, number, number | undefined];
  if (latitude < -90 || latitude > 90) throw new UsageError(`${flag}: latitude ${latitude} is outside -90…90.`);
  if (longitude < -180 || longitude > 180) throw new UsageError(`${flag}: longitude ${longitude} is outside -180…180.`);
  if (altitude !== undefined && (altitude < -11_000 || altitude > 100_000))
    throw new UsageError(`${flag}: altitude ${altitude} m is not a plausible altitude.`);
  return altitude === undefined ? { latitude, longitude } : { latitude, longitude, altitude };
}

/** Keys smile sets itself: a --param may not override them. */
const RESERVED_PARAMS = new Set(['user_id', 'job_id', 'job_type', 'sandbox_result']);

/** `key=value` pairs (repeatable) → partner params; values stay strings. */
export function parseParams(values: readonly string[] | undefined, flag = '--param'): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of values ?? []) {
    const index = item.indexOf('=');
    if (index <= 0) throw new UsageError(`${flag} takes key=value, got "${item}".`);
    const key = item.slice(0, index).trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key))
      throw new UsageError(`${flag}: "${key}" is not a usable key (letters, digits, _ . - only).`);
    if (RESERVED_PARAMS.has(key))
      throw new UsageError(`${flag}: ${key} is set by smile itself.`, {
        hint:
          key === 'sandbox_result'
            ? 'Use --sandbox-result approve|reject|provisional.'
            : `Use --${key.replace('_', '-')}.`,
      });
    if (key in params) throw new UsageError(`${flag} ${key} is given twice.`);
    params[key] = item.slice(index + 1);
  }
  return params;
}

export const SANDBOX_RESULTS = { approve: '0', reject: '1', provisional: '2' } as const;
export type SandboxResultName = keyof typeof SANDBOX_RESULTS;

export function parseSandboxResult(value: string, flag = '--sandbox-result'): '0' | '1' | '2' {
  const key = value.trim().toLowerCase();
  if (key in SANDBOX_RESULTS) return SANDBOX_RESULTS[key as SandboxResultName];
  if (key === '0' || key === '1' || key === '2') return key;
  throw new UsageError(`${flag} takes approve, reject or provisional, not "${value}".`);
}

/** user_id / job_id: non-empty, printable, no surrounding spaces (limits UNVERIFIED; SDK ids are 41 chars). */
export function checkId(value: string, flag: string): string {
  if (value.trim() === '' || value !== value.trim())
    throw new UsageError(`${flag} must be a non-empty id without surrounding spaces.`);
  if (value.length > 128) throw new UsageError(`${flag} is ${value.length} characters long; keep ids under 128.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new UsageError(`${flag} contains control characters.`);
  return value;
}

/** A fresh job id in the SDKs' style (`job-<uuid>`). */
export function newJobId(): string {
  return `job-${randomUUID()}`;
}
