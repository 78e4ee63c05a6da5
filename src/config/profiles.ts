import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuthError, UsageError, isSmileCliError } from '../errors.js';
import { removeApiKey } from './credentials.js';
import { CONFIG_FILE_NAME, FILE_MODE, ensureConfigDir } from './paths.js';
import {
  type Environment,
  assertCallbackUrl,
  assertProfileName,
  isEnvironment,
  normalizeBaseUrl,
  normalizePartnerId,
} from './validate.js';

export interface Profile {
  partnerId: string;
  environment: Environment;
  baseUrl?: string;
  callbackUrl?: string;
}

export interface NamedProfile extends Profile {
  name: string;
  current: boolean;
}

/** The shape of config.json (conf's file). Entries are validated one by one when used. */
export interface ProfilesConfig {
  currentProfile?: string;
  profiles: Record<string, Profile>;
}

interface RawConfig {
  currentProfile?: string;
  profiles: Record<string, unknown>;
  /** Keys we do not own (conf's `__internal__`, future fields): written back untouched. */
  rest: Record<string, unknown>;
}

export interface AddProfileOptions {
  /** Replace an existing profile of that name instead of failing. */
  overwrite?: boolean;
  /**
   * `auto` (default): current when it is the first profile or no valid profile is current; `yes`:
   * current; `no`: never made current (an existing current profile stays current).
   */
  makeCurrent?: 'auto' | 'yes' | 'no';
}

/** What `smile profile set` changes; an empty string removes the base or callback URL. */
export interface ProfilePatch {
  partnerId?: string;
  baseUrl?: string;
  callbackUrl?: string;
}

export interface AddProfileResult {
  name: string;
  profile: Profile;
  /** True when a profile of that name existed and was replaced. */
  replaced: boolean;
  /** True when this profile is now the current one (the first profile becomes current by itself). */
  current: boolean;
}

export interface RemoveProfileResult {
  name: string;
  wasCurrent: boolean;
  keyRemoved: boolean;
  currentProfile: string | undefined;
}

export function configFilePath(dir: string): string {
  return path.join(dir, CONFIG_FILE_NAME);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidConfig(file: string, reason: string): AuthError {
  return new AuthError(`The config file ${file} ${reason}.`, {
    code: 'config_invalid',
    hint: `Fix ${file} by hand, or delete it and add your profiles again with \`smile profile add\`.`,
  });
}

function parseRawConfig(data: unknown, file: string): RawConfig {
  if (data === undefined) return { profiles: Object.create(null) as Record<string, unknown>, rest: {} };
  if (!isPlainObject(data)) throw invalidConfig(file, 'is not a JSON object');
  const { currentProfile, profiles, ...rest } = data;
  if (currentProfile !== undefined && typeof currentProfile !== 'string') {
    throw invalidConfig(file, 'has a "currentProfile" that is not a string');
  }
  if (profiles !== undefined && !isPlainObject(profiles)) {
    throw invalidConfig(file, 'has a "profiles" entry that is not an object');
  }
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(profiles ?? {})) copy[name] = value;
  return { ...(currentProfile === undefined ? {} : { currentProfile }), profiles: copy, rest };
}

/**
 * Reads config.json without conf and without creating anything: the read path of every command stays
 * free of conf's import (and of mkdir). A missing file is an empty config.
 */
async function readRawConfig(dir: string): Promise<RawConfig> {
  const file = configFilePath(dir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return parseRawConfig(undefined, file);
    throw new AuthError(`Cannot read the config file ${file} (${code ?? 'error'}).`, {
      code: 'config_unreadable',
      hint: "Check the file's owner and permissions, or point SMILE_CONFIG_DIR at another directory.",
    });
  }
  if (text.trim() === '') return parseRawConfig(undefined, file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalidConfig(file, 'is not valid JSON');
  }
  return parseRawConfig(data, file);
}

/** Checks one stored profile's types, partner id and environment; URLs are checked where used. */
function toProfile(name: string, raw: unknown, file: string): Profile {
  const bad = (what: string): AuthError =>
    new AuthError(`Profile "${name}" in ${file} ${what}.`, {
      code: 'config_invalid',
      hint: `Add it again with \`smile profile add ${name} --partner-id ID --env sandbox --force\`, or remove it with \`smile profile remove ${name}\`.`,
    });
  if (!isPlainObject(raw)) throw bad('is not an object');
  let partnerId: string;
  try {
    partnerId = normalizePartnerId(raw.partnerId, 'partnerId');
  } catch (error) {
    throw bad(isSmileCliError(error) ? `has a bad partnerId: ${error.message}` : 'has a bad partnerId');
  }
  if (!isEnvironment(raw.environment)) throw bad('has an environment that is neither "sandbox" nor "production"');
  const profile: Profile = { partnerId, environment: raw.environment };
  for (const key of ['baseUrl', 'callbackUrl'] as const) {
    const value = raw[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw bad(`has a ${key} that is not a string`);
    profile[key] = value;
  }
  return profile;
}

function knownNames(raw: RawConfig): string[] {
  return Object.keys(raw.profiles).sort();
}

/** The AuthError for a profile name that is not configured; its hint lists the known ones. */
export function unknownProfileError(name: string, known: readonly string[], origin?: string): AuthError {
  const from = origin === undefined ? '' : ` (from ${origin})`;
  const listing = known.length === 0 ? 'No profiles are configured yet.' : `Known profiles: ${known.join(', ')}.`;
  return new AuthError(`Unknown profile "${name}"${from}.`, {
    code: 'unknown_profile',
    hint: `${listing} Add one with \`smile profile add ${pasteableName(name)} --partner-id ID --env sandbox\`.`,
    details: { profile: name, knownProfiles: [...known] },
  });
}

// The hint repeats the requested name only when it is a valid profile name (so it is safe to paste).
function pasteableName(name: string): string {
  return /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : 'NAME';
}

/** All profiles, sorted by name, each validated, with `current` set. */
export async function listProfiles(dir: string): Promise<NamedProfile[]> {
  const raw = await readRawConfig(dir);
  const file = configFilePath(dir);
  return knownNames(raw).map((name) => ({
    name,
    current: raw.currentProfile === name,
    ...toProfile(name, raw.profiles[name], file),
  }));
}

/** The names of the configured profiles, sorted; no validation of their content. */
export async function profileNames(dir: string): Promise<string[]> {
  return knownNames(await readRawConfig(dir));
}

/** A profile, or undefined when there is none of that name. */
export async function findProfile(dir: string, name: string): Promise<Profile | undefined> {
  const raw = await readRawConfig(dir);
  if (!Object.hasOwn(raw.profiles, name)) return undefined;
  return toProfile(name, raw.profiles[name], configFilePath(dir));
}

/** A profile; an unknown name is an AuthError (exit 3) whose hint lists the known profiles. */
export async function getProfile(dir: string, name: string, origin?: string): Promise<Profile> {
  const raw = await readRawConfig(dir);
  if (!Object.hasOwn(raw.profiles, name)) throw unknownProfileError(name, knownNames(raw), origin);
  return toProfile(name, raw.profiles[name], configFilePath(dir));
}

/** The current profile's name (set by `smile profile use`, or the first profile added). */
export async function currentProfileName(dir: string): Promise<string | undefined> {
  return (await readRawConfig(dir)).currentProfile;
}

/** Validates a profile as `smile profile add` would store it: trimmed partner id, normalised URLs. */
export function validateProfile(profile: Profile): Profile {
  if (!isEnvironment(profile.environment)) {
    throw new UsageError(`--env must be "sandbox" or "production", not ${JSON.stringify(profile.environment)}.`, {
      code: 'bad_environment',
    });
  }
  const result: Profile = {
    partnerId: normalizePartnerId(profile.partnerId),
    environment: profile.environment,
  };
  if (profile.baseUrl !== undefined && profile.baseUrl.trim() !== '') {
    result.baseUrl = normalizeBaseUrl(profile.baseUrl, profile.environment);
  }
  if (profile.callbackUrl !== undefined && profile.callbackUrl.trim() !== '') {
    result.callbackUrl = assertCallbackUrl(profile.callbackUrl, profile.environment);
  }
  return result;
}

type Store = Record<string, unknown>;

/**
 * Read-modify-write of config.json through conf (imported only here, for writes): conf writes
 * atomically (temp file + rename), so concurrent processes never see a torn file — the last writer
 * wins. The directory is created 0700 first; the file is written 0600.
 */
async function updateConfig<T>(dir: string, update: (raw: RawConfig) => T): Promise<T> {
  await ensureConfigDir(dir);
  const file = configFilePath(dir);
  const { default: Conf } = await import('conf');
  let conf: InstanceType<typeof Conf<Store>>;
  let data: unknown;
  try {
    conf = new Conf<Store>({
      projectName: 'smile',
      projectSuffix: '',
      cwd: dir,
      configName: 'config',
      // Profile names may contain dots; they are keys, never paths.
      accessPropertiesByDotNotation: false,
      configFileMode: FILE_MODE,
      clearInvalidConfig: false,
    });
    data = conf.store;
  } catch {
    // conf throws SyntaxError for malformed JSON; say which file instead.
    throw invalidConfig(file, 'is not valid JSON');
  }
  const raw = parseRawConfig(isPlainObject(data) && Object.keys(data).length === 0 ? undefined : data, file);
  const result = update(raw);
  const profiles: Record<string, unknown> = {};
  for (const name of Object.keys(raw.profiles).sort()) profiles[name] = raw.profiles[name];
  const next: Store = { ...raw.rest };
  if (raw.currentProfile !== undefined) next.currentProfile = raw.currentProfile;
  next.profiles = profiles;
  conf.store = next;
  return result;
}

/**
 * Adds a profile (validated; see validateProfile). An existing name is a UsageError unless
 * `overwrite`. The first profile, or any profile added while no valid current profile is set,
 * becomes current.
 */
export async function addProfile(
  dir: string,
  name: string,
  profile: Profile,
  options: AddProfileOptions = {},
): Promise<AddProfileResult> {
  assertProfileName(name);
  const valid = validateProfile(profile);
  return updateConfig(dir, (raw) => {
    const replaced = Object.hasOwn(raw.profiles, name);
    if (replaced && options.overwrite !== true) {
      throw new UsageError(`Profile "${name}" already exists.`, {
        code: 'profile_exists',
        hint: `Pass --force to replace it, or remove it first with \`smile profile remove ${name}\`.`,
      });
    }
    raw.profiles[name] = { ...valid };
    const makeCurrent = options.makeCurrent ?? 'auto';
    if (
      makeCurrent === 'yes' ||
      (makeCurrent === 'auto' && (raw.currentProfile === undefined || !Object.hasOwn(raw.profiles, raw.currentProfile)))
    ) {
      raw.currentProfile = name;
    }
    return { name, profile: valid, replaced, current: raw.currentProfile === name };
  });
}

/**
 * Changes some fields of an existing profile (validated like `add`, against its environment); its
 * key is untouched. Returns the profile before and after.
 */
export async function updateProfile(
  dir: string,
  name: string,
  patch: ProfilePatch,
): Promise<{ before: Profile; after: Profile; current: boolean }> {
  const raw = await readRawConfig(dir);
  if (!Object.hasOwn(raw.profiles, name)) throw unknownProfileError(name, knownNames(raw));
  const file = configFilePath(dir);
  const merge = (before: Profile): Profile => {
    const next: Profile = { ...before };
    if (patch.partnerId !== undefined) next.partnerId = patch.partnerId;
    for (const key of ['baseUrl', 'callbackUrl'] as const) {
      const value = patch[key];
      if (value === undefined) continue;
      if (value.trim() === '') delete next[key];
      else next[key] = value;
    }
    return validateProfile(next);
  };
  // Validate before conf is imported, so that a bad value costs no write.
  merge(toProfile(name, raw.profiles[name], file));
  return updateConfig(dir, (fresh) => {
    if (!Object.hasOwn(fresh.profiles, name)) throw unknownProfileError(name, knownNames(fresh));
    const before = toProfile(name, fresh.profiles[name], file);
    const after = merge(before);
    fresh.profiles[name] = { ...after };
    return { before, after, current: fresh.currentProfile === name };
  });
}

/** Makes `name` the current profile; returns the previous current profile's name. */
export async function useProfile(dir: string, name: string): Promise<{ previous: string | undefined }> {
  // Validate outside conf so that an unknown name costs no import and no write.
  const raw = await readRawConfig(dir);
  if (!Object.hasOwn(raw.profiles, name)) throw unknownProfileError(name, knownNames(raw));
  toProfile(name, raw.profiles[name], configFilePath(dir));
  return updateConfig(dir, (fresh) => {
    if (!Object.hasOwn(fresh.profiles, name)) throw unknownProfileError(name, knownNames(fresh));
    const previous = fresh.currentProfile;
    fresh.currentProfile = name;
    return { previous };
  });
}

/**
 * Removes a profile and its API key from credentials.json. When it was current, no profile is current
 * afterwards (the next `smile profile use` or `add` sets one).
 */
export async function removeProfile(dir: string, name: string): Promise<RemoveProfileResult> {
  const raw = await readRawConfig(dir);
  if (!Object.hasOwn(raw.profiles, name)) throw unknownProfileError(name, knownNames(raw));
  const { wasCurrent, currentProfile } = await updateConfig(dir, (fresh) => {
    if (!Object.hasOwn(fresh.profiles, name)) throw unknownProfileError(name, knownNames(fresh));
    delete fresh.profiles[name];
    const was = fresh.currentProfile === name;
    if (was) delete fresh.currentProfile;
    return { wasCurrent: was, currentProfile: fresh.currentProfile };
  });
  const keyRemoved = await removeApiKey(dir, name);
  return { name, wasCurrent, keyRemoved, currentProfile };
}

/** Reads the whole config (validated), for callers that need everything at once. */
export async function readProfilesConfig(dir: string): Promise<ProfilesConfig> {
  const raw = await readRawConfig(dir);
  const file = configFilePath(dir);
  const profiles: Record<string, Profile> = {};
  for (const name of knownNames(raw)) profiles[name] = toProfile(name, raw.profiles[name], file);
  return { ...(raw.currentProfile === undefined ? {} : { currentProfile: raw.currentProfile }), profiles };
}
