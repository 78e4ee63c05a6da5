/**
 * What `smile profile add|list|use|show|remove` do: profiles in config.json, their keys in
 * credentials.json (0600), and the effective settings with their sources. Each function returns the
 * JSON document its command prints (snake_case keys; the key only ever masked).
 */
import { UsageError } from '../errors.js';
import {
  MAX_KEY_FILE_BYTES,
  credentialsFileMode,
  formatMode,
  maskKey,
  normalizeApiKey,
  openCredentialStore,
  readKeyFile,
} from './credentials.js';
import type { CredentialStoreInfo, CredentialStoreKind } from './credentials.js';
import { resolveConfigPaths } from './paths.js';
import {
  addProfile,
  currentProfileName,
  getProfile,
  listProfiles,
  profileNames,
  removeProfile,
  unknownProfileError,
  updateProfile,
  useProfile,
  validateProfile,
} from './profiles.js';
import { resolveSettings } from './resolve.js';
import type { MissingSetting, SettingsFlags, Source } from './resolve.js';
import { assertProfileName, defaultBaseUrl } from './validate.js';
import type { Environment } from './validate.js';

/** Where the profiles and keys live. */
export interface ConfigFilesDocument {
  config_dir: string;
  config_file: string;
  credentials_file: string;
}

/** Where stored keys live (`keyring` or `file`), and why the file when it is used. */
export interface KeyStoreDocument {
  key_store: CredentialStoreKind;
  /** `the OS keyring (Secret Service)`, or credentials.json's path and mode. */
  key_location: string;
  /** Why the file and not the OS keyring; null with the keyring. */
  key_store_reason: string | null;
  /** Profiles whose keys were just moved from credentials.json into the keyring. */
  keys_migrated: string[];
}

/** `smile profile add --json`. */
export interface ProfileAddedDocument extends ConfigFilesDocument, KeyStoreDocument {
  ok: true;
  name: string;
  partner_id: string;
  environment: Environment;
  /** The effective base URL (the environment's default when none was given). */
  base_url: string;
  callback_url: string | null;
  /** Masked: the first 4 characters, then `…`. */
  api_key: string;
  current: boolean;
  /**
   * Why it is current or not: `use` (--use), `sandbox` (a sandbox profile becomes current by
   * default), `kept` (it already was), `no-use` (--no-use), `production` (never current unless
   * --use), `other-current` (another profile stays current).
   */
  current_reason: 'use' | 'sandbox' | 'kept' | 'no-use' | 'production' | 'other-current';
  replaced: boolean;
}

/** `smile profile set --json`. */
export interface ProfileSetDocument {
  ok: true;
  name: string;
  /** The fields that changed (snake_case), in order; empty when the values were already so. */
  changed: string[];
  partner_id: string;
  environment: Environment;
  base_url: string;
  base_url_is_default: boolean;
  callback_url: string | null;
  current: boolean;
}

/** One profile of `smile profile list --json`. */
export interface ProfileListEntry {
  name: string;
  current: boolean;
  partner_id: string;
  environment: Environment;
  base_url: string;
  base_url_is_default: boolean;
  callback_url: string | null;
  /** Masked key, or null when the credentials file has none for this profile. */
  api_key: string | null;
}

/** `smile profile list --json`. */
export interface ProfileListDocument extends ConfigFilesDocument, KeyStoreDocument {
  ok: true;
  current_profile: string | null;
  profiles: ProfileListEntry[];
}

/** `smile profile use --json`. */
export interface ProfileUsedDocument {
  ok: true;
  current_profile: string;
  previous: string | null;
  changed: boolean;
}

/** `smile profile show --json`: the effective settings of a run, and where each comes from. */
export interface ProfileShownDocument extends ConfigFilesDocument, KeyStoreDocument {
  /** False when a real run would fail on something `missing`. */
  ok: boolean;
  /** The profile in use (named, --profile, SMILE_PROFILE or the current one), or null when none. */
  profile: string | null;
  current: boolean;
  partner_id: string | null;
  environment: Environment;
  base_url: string;
  callback_url: string | null;
  /** Masked key, or null when missing; the whole key only with `--show-key`, confirmed on a terminal. */
  api_key: string | null;
  api_key_shown: boolean;
  sources: {
    profile: Source | null;
    partner_id: Source | null;
    api_key: Source | null;
    environment: Source;
    base_url: Source;
    callback_url: Source | null;
  };
  /** What a real run would fail on; empty when nothing is missing. */
  missing: MissingSetting[];
  config_dir_source: 'env' | 'default';
  credentials_file_mode: string | null;
  /** True when credentials.json is readable by group or others (it is still used). */
  credentials_file_too_open: boolean;
}

/** `smile profile remove --json`. */
export interface ProfileRemovedDocument {
  ok: true;
  removed: string;
  was_current: boolean;
  key_removed: boolean;
  current_profile: string | null;
}

export interface NewProfile {
  name: string;
  partnerId: string;
  environment: Environment;
  baseUrl?: string | undefined;
  callbackUrl?: string | undefined;
  /** Already obtained (--api-key-file PATH|-, or the hidden prompt). Never echoed back. */
  apiKey: string;
  /**
   * true (--use): make it current; false (--no-use): never; `default` (the CLI without either): a
   * sandbox profile becomes current, a production profile does not; undefined: a sandbox profile
   * becomes current when no profile is. A production profile never becomes current unless true:
   * runs against production name it (--profile), or `smile profile use` makes it current.
   */
  use?: boolean | 'default' | undefined;
  /** Replace an existing profile of that name (its key too). */
  overwrite?: boolean;
}

function configFiles(env: NodeJS.ProcessEnv): ConfigFilesDocument {
  const paths = resolveConfigPaths(env);
  return { config_dir: paths.dir, config_file: paths.configFile, credentials_file: paths.credentialsFile };
}

/**
 * Adds a profile and stores its key: validates everything before writing anything, then the key in
 * credentials.json (0600) and the profile in config.json. The first profile becomes current.
 */
export async function addProfileWithKey(input: NewProfile, env: NodeJS.ProcessEnv): Promise<ProfileAddedDocument> {
  const name = assertProfileName(input.name);
  const profile = validateProfile({
    partnerId: input.partnerId,
    environment: input.environment,
    ...(input.baseUrl === undefined ? {} : { baseUrl: input.baseUrl }),
    ...(input.callbackUrl === undefined ? {} : { callbackUrl: input.callbackUrl }),
  });
  const apiKey = normalizeApiKey(input.apiKey);
  const files = configFiles(env);
  const dir = files.config_dir;

  // Refuse before the key is written, so an existing profile's key is never replaced by accident.
  if (input.overwrite !== true && (await profileNames(dir)).includes(name)) {
    throw new UsageError(`Profile "${name}" already exists.`, {
      code: 'profile_exists',
      hint: `Pass --force to replace it, or remove it first with \`smile profile remove ${name}\`.`,
    });
  }
  const store = await openCredentialStore(dir, env);
  const stored = await store.set(name, apiKey);
  const makeCurrent =
    input.use === true
      ? 'yes'
      : input.use === false || profile.environment === 'production'
        ? 'no'
        : input.use === 'default'
          ? 'yes'
          : 'auto';
  const before = await currentProfileName(dir);
  const added = await addProfile(dir, name, profile, { overwrite: input.overwrite === true, makeCurrent });
  const current = added.current;
  const currentReason: ProfileAddedDocument['current_reason'] =
    input.use === true
      ? 'use'
      : current
        ? before === name
          ? 'kept'
          : 'sandbox'
        : input.use === false
          ? 'no-use'
          : profile.environment === 'production'
            ? 'production'
            : 'other-current';
  return {
    ok: true,
    name,
    partner_id: added.profile.partnerId,
    environment: added.profile.environment,
    base_url: added.profile.baseUrl ?? defaultBaseUrl(added.profile.environment),
    callback_url: added.profile.callbackUrl ?? null,
    api_key: maskKey(apiKey),
    current,
    replaced: added.replaced,
    ...files,
    current_reason: currentReason,
    key_store: stored.store,
    key_location: stored.location,
    key_store_reason: stored.store === 'file' ? (stored.fallbackReason ?? store.fileReason ?? null) : null,
    keys_migrated: store.migrated,
  };
}

function keyStoreDocument(store: CredentialStoreInfo): KeyStoreDocument {
  return {
    key_store: store.store,
    key_location: store.location,
    key_store_reason: store.fileReason ?? null,
    keys_migrated: store.migrated,
  };
}

/** Every profile with its masked key (or null). */
export async function listProfilesWithKeys(env: NodeJS.ProcessEnv): Promise<ProfileListDocument> {
  const files = configFiles(env);
  const profiles = await listProfiles(files.config_dir);
  const store = await openCredentialStore(files.config_dir, env);
  const keys = await Promise.all(profiles.map((profile) => store.get(profile.name)));
  return {
    ok: true,
    current_profile: profiles.find((profile) => profile.current)?.name ?? null,
    profiles: profiles.map((profile, index) => {
      const key = keys[index];
      return {
        name: profile.name,
        current: profile.current,
        partner_id: profile.partnerId,
        environment: profile.environment,
        base_url: profile.baseUrl ?? defaultBaseUrl(profile.environment),
        base_url_is_default: profile.baseUrl === undefined,
        callback_url: profile.callbackUrl ?? null,
        api_key: key === undefined ? null : maskKey(key),
      };
    }),
    ...files,
    ...keyStoreDocument(store),
  };
}

/** Makes NAME the current profile. */
export async function switchProfile(name: string, env: NodeJS.ProcessEnv): Promise<ProfileUsedDocument> {
  const { previous } = await useProfile(configFiles(env).config_dir, name);
  return { ok: true, current_profile: name, previous: previous ?? null, changed: previous !== name };
}

/**
 * The effective settings of NAME (or, without it, of --profile / SMILE_PROFILE / the current
 * profile) with the source of each, the masked key, and the files. Never fails on a missing key or
 * partner id: it lists them in `missing`.
 */
export async function showEffectiveSettings(
  name: string | undefined,
  given: { env: NodeJS.ProcessEnv; flags: SettingsFlags; showKey?: boolean },
): Promise<ProfileShownDocument> {
  const paths = resolveConfigPaths(given.env);
  const flags: SettingsFlags = { ...given.flags, ...(name === undefined ? {} : { profile: name }) };
  if (name !== undefined) await getProfile(paths.dir, name);
  let store: CredentialStoreInfo | undefined;
  const settings = await resolveSettings({
    flags,
    env: given.env,
    partial: true,
    onKeyStore: (info) => (store = info),
  });
  store ??= await openCredentialStore(paths.dir, given.env);
  const mode = await credentialsFileMode(paths.dir);
  const showKey = given.showKey === true && settings.apiKey !== undefined;
  const profileName = settings.profileName ?? null;
  const currentName = await currentProfileName(paths.dir);
  return {
    ok: settings.missing.length === 0,
    profile: profileName,
    current: profileName !== null && profileName === currentName,
    partner_id: settings.partnerId ?? null,
    environment: settings.environment,
    base_url: settings.baseUrl,
    callback_url: settings.callbackUrl ?? null,
    api_key: settings.apiKey === undefined ? null : showKey ? settings.apiKey : maskKey(settings.apiKey),
    sources: {
      profile: settings.sources.profile ?? null,
      partner_id: settings.sources.partnerId ?? null,
      api_key: settings.sources.apiKey ?? null,
      environment: settings.sources.environment,
      base_url: settings.sources.baseUrl,
      callback_url: settings.sources.callbackUrl ?? null,
    },
    missing: [...settings.missing],
    config_dir: paths.dir,
    config_file: paths.configFile,
    credentials_file: paths.credentialsFile,
    config_dir_source: paths.source,
    credentials_file_mode: mode.mode === undefined ? null : formatMode(mode.mode),
    credentials_file_too_open: mode.tooOpen,
    api_key_shown: showKey,
    ...keyStoreDocument(store),
  };
}

/**
 * Changes a profile's partner id, base URL or callback URL (an empty value removes a URL), keeping
 * its key wherever it is stored.
 */
export async function setProfileFields(
  name: string,
  patch: { partnerId?: string | undefined; baseUrl?: string | undefined; callbackUrl?: string | undefined },
  env: NodeJS.ProcessEnv,
): Promise<ProfileSetDocument> {
  const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as {
    partnerId?: string;
    baseUrl?: string;
    callbackUrl?: string;
  };
  if (Object.keys(given).length === 0) {
    throw new UsageError(`Nothing to change in profile "${name}".`, {
      code: 'usage',
      hint: `Pass --callback-url URL, --base-url URL or --partner-id ID, e.g. smile profile set ${name} --callback-url https://example.com/smile`,
    });
  }
  const { before, after, current } = await updateProfile(configFiles(env).config_dir, name, given);
  const fields = [
    ['partnerId', 'partner_id'],
    ['baseUrl', 'base_url'],
    ['callbackUrl', 'callback_url'],
  ] as const;
  return {
    ok: true,
    name,
    changed: fields.filter(([key]) => before[key] !== after[key]).map(([, label]) => label),
    partner_id: after.partnerId,
    environment: after.environment,
    base_url: after.baseUrl ?? defaultBaseUrl(after.environment),
    base_url_is_default: after.baseUrl === undefined,
    callback_url: after.callbackUrl ?? null,
    current,
  };
}

/** Removes a profile and its key. */
export async function removeProfileAndKey(name: string, env: NodeJS.ProcessEnv): Promise<ProfileRemovedDocument> {
  const dir = configFiles(env).config_dir;
  const names = await profileNames(dir);
  if (!names.includes(name)) throw unknownProfileError(name, names);
  // The key first: when the keyring refuses, nothing is removed and the command can be run again.
  const keyRemoved = await (await openCredentialStore(dir, env)).remove(name);
  const result = await removeProfile(dir, name);
  return {
    ok: true,
    removed: result.name,
    was_current: result.wasCurrent,
    key_removed: keyRemoved || result.keyRemoved,
    current_profile: result.currentProfile ?? null,
  };
}

/**
 * Reads the API key for `--api-key-file PATH`, or from stdin to its end for `-`. Trimmed; empty,
 * multi-line or oversized input is a UsageError. Refuses `-` when stdin is a terminal (the key would
 * be echoed): the hidden prompt is the way there.
 */
export async function readApiKeyFile(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (path !== '-') return readKeyFile(path, '--api-key-file', UsageError);
  if ((stdin as { isTTY?: boolean }).isTTY === true) {
    throw new UsageError(
      '--api-key-file - reads the key from stdin, but stdin is a terminal (the key would be echoed).',
      {
        code: 'usage',
        hint: 'Pipe the key in (`… | smile profile add …`), or leave out --api-key-file to be asked for it without echo.',
      },
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    size += buffer.length;
    if (size > MAX_KEY_FILE_BYTES) {
      throw new UsageError('The input on stdin is too large to be an API key.', { code: 'bad_api_key_file' });
    }
    chunks.push(buffer);
  }
  const key = Buffer.concat(chunks).toString('utf8').trim();
  if (key === '') {
    throw new UsageError('No API key on stdin (--api-key-file -): the input was empty.', {
      code: 'empty_api_key',
      hint: 'Pipe the key in, for example `printf %s "$SMILE_KEY" | smile profile add NAME --partner-id ID --env sandbox --api-key-file -`.',
    });
  }
  return normalizeApiKey(key, 'The API key on stdin');
}
