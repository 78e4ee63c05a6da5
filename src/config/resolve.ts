import { AuthError, UsageError } from '../errors.js';
import { normalizeApiKey, openCredentialStore, readKeyFile } from './credentials.js';
import type { CredentialStoreInfo } from './credentials.js';
import { resolveConfigPaths } from './paths.js';
import { type Profile, currentProfileName, getProfile, profileNames } from './profiles.js';
import {
  type Environment,
  assertCallbackUrl,
  defaultBaseUrl,
  normalizeBaseUrl,
  normalizePartnerId,
  parseEnvironment,
} from './validate.js';

/**
 * Where a setting came from. `profile`: the profile's entry in config.json; `credentials`: the
 * profile's key in credentials.json; `file`: SMILE_API_KEY_FILE; `default`: built in — for
 * `sources.profile`, `default` means the current profile chosen with `smile profile use`.
 */
export type Source = 'flag' | 'env' | 'profile' | 'default' | 'credentials' | 'file';

export interface SettingsFlags {
  profile?: string;
  env?: string;
  baseUrl?: string;
  callbackUrl?: string;
}

/** The settings flags of a run (--profile, --env, --base-url, a command's --callback-url), only those given. */
export function settingsFlags(given: {
  profile?: string | undefined;
  env?: string | undefined;
  baseUrl?: string | undefined;
  callbackUrl?: string | undefined;
}): SettingsFlags {
  const flags: SettingsFlags = {};
  if (given.profile !== undefined) flags.profile = given.profile;
  if (given.env !== undefined) flags.env = given.env;
  if (given.baseUrl !== undefined) flags.baseUrl = given.baseUrl;
  if (given.callbackUrl !== undefined) flags.callbackUrl = given.callbackUrl;
  return flags;
}

export interface ResolveSettingsInput {
  flags: SettingsFlags;
  /** The process environment, passed in (never read from process.env here). */
  env: NodeJS.ProcessEnv;
  /** Do not fail on a missing partner id or API key; report them in `missing` (profile show, doctor). */
  partial?: boolean;
  /** Told where the profile's stored key was looked for (not called when the environment gave the key). */
  onKeyStore?: (store: CredentialStoreInfo) => void;
}

export interface SettingsSources {
  partnerId: Source;
  apiKey: Source;
  environment: Source;
  baseUrl: Source;
  profile?: Source;
  callbackUrl?: Source;
}

export interface ResolvedSettings {
  profileName?: string;
  partnerId: string;
  apiKey: string;
  environment: Environment;
  baseUrl: string;
  callbackUrl?: string;
  sources: SettingsSources;
  /** The config directory consulted (it may not exist). */
  configDir: string;
}

export type MissingSetting = 'partnerId' | 'apiKey';

export interface PartialSettings extends Omit<ResolvedSettings, 'partnerId' | 'apiKey' | 'sources'> {
  partnerId?: string;
  apiKey?: string;
  sources: Omit<SettingsSources, 'partnerId' | 'apiKey'> & { partnerId?: Source; apiKey?: Source };
  /** What a real run would fail on; empty when everything is there. */
  missing: MissingSetting[];
}

const ADD_PROFILE = 'smile profile add NAME --partner-id ID --env sandbox';

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  // An empty variable (common with CI templating) counts as unset.
  return value === undefined || value.trim() === '' ? undefined : value;
}

function flagValue(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`${flag} is empty.`, { code: 'usage' });
  return value;
}

interface Picked<T> {
  value: T;
  source: Source;
  origin: string;
}

function pick<T>(...candidates: Array<Picked<T | undefined>>): Picked<T> | undefined {
  for (const candidate of candidates) {
    if (candidate.value !== undefined) return candidate as Picked<T>;
  }
  return undefined;
}

function missingCredentialsError(
  missing: MissingSetting[],
  profileName: string | undefined,
  profile: Profile | undefined,
  notCurrent: readonly string[],
  keyLocation = 'the credentials file',
): AuthError {
  const details = { missing, ...(profileName === undefined ? {} : { profile: profileName }) };
  if (missing.length === 2 && notCurrent.length > 0) {
    // Profiles exist but none is current (a production profile never becomes current by itself).
    return new AuthError(
      `No profile is in use: none is current, and --profile / SMILE_PROFILE are not given (profiles: ${notCurrent.join(', ')}).`,
      {
        code: 'no_credentials',
        hint: `Name one with --profile ${notCurrent[0]!}, or make one current with \`smile profile use ${notCurrent[0]!}\`.`,
        details: { ...details, knownProfiles: [...notCurrent] },
      },
    );
  }
  if (missing.length === 2) {
    return new AuthError(
      'No Smile ID credentials: no profile is configured and SMILE_PARTNER_ID / SMILE_API_KEY are not set.',
      {
        code: 'no_credentials',
        hint: `Run \`${ADD_PROFILE}\` (it asks for the API key), or set SMILE_PARTNER_ID and SMILE_API_KEY (or SMILE_API_KEY_FILE), or pass --emulator to try without an account.`,
        details,
      },
    );
  }
  if (missing.includes('apiKey')) {
    if (profileName === undefined) {
      return new AuthError('No API key: SMILE_PARTNER_ID is set but SMILE_API_KEY and SMILE_API_KEY_FILE are not.', {
        code: 'no_api_key',
        hint: `Set SMILE_API_KEY or SMILE_API_KEY_FILE, or add a profile with \`${ADD_PROFILE}\`, or pass --emulator to try without an account.`,
        details,
      });
    }
    return new AuthError(
      `No API key for profile "${profileName}": none is stored in ${keyLocation} and SMILE_API_KEY / SMILE_API_KEY_FILE are not set.`,
      {
        code: 'no_api_key',
        hint: `Store it with \`smile profile add ${profileName} --partner-id ${profile?.partnerId ?? 'ID'} --env ${profile?.environment ?? 'sandbox'} --force\`, or set SMILE_API_KEY or SMILE_API_KEY_FILE, or pass --emulator to try without an account.`,
        details,
      },
    );
  }
  return new AuthError('No partner id: SMILE_API_KEY is set but SMILE_PARTNER_ID is not, and no profile is in use.', {
    code: 'no_partner_id',
    hint: `Set SMILE_PARTNER_ID (the partner id that goes with the key), or run \`${ADD_PROFILE}\`, or pass --emulator to try without an account.`,
    details,
  });
}

/**
 * Resolves the settings of one run with the precedence flag > environment variable > profile >
 * default, field by field, and records each field's source. With only SMILE_PARTNER_ID and
 * SMILE_API_KEY set it needs no profile and no config directory, and it never creates files.
 */
export function resolveSettings(input: ResolveSettingsInput & { partial: true }): Promise<PartialSettings>;
export function resolveSettings(input: ResolveSettingsInput & { partial?: false }): Promise<ResolvedSettings>;
export function resolveSettings(input: ResolveSettingsInput): Promise<ResolvedSettings | PartialSettings>;
export async function resolveSettings(input: ResolveSettingsInput): Promise<ResolvedSettings | PartialSettings> {
  const { flags, env } = input;
  const paths = resolveConfigPaths(env);
  const dir = paths.dir;

  // Validate flag/variable values first: a typo is reported before anything is looked up.
  const flagEnv = flagValue(flags.env, '--env');
  const envEnv = envValue(env, 'SMILE_ENV');
  const explicitEnvironment =
    flagEnv !== undefined
      ? { value: parseEnvironment(flagEnv, '--env'), source: 'flag' as const }
      : envEnv !== undefined
        ? { value: parseEnvironment(envEnv, 'SMILE_ENV'), source: 'env' as const }
        : undefined;

  // Which profile, if any.
  const namedProfile = pick<string>(
    { value: flagValue(flags.profile, '--profile')?.trim(), source: 'flag', origin: '--profile' },
    { value: envValue(env, 'SMILE_PROFILE')?.trim(), source: 'env', origin: 'SMILE_PROFILE' },
  );
  let profileName: string | undefined;
  let profileSource: Source | undefined;
  let profile: Profile | undefined;
  if (namedProfile !== undefined) {
    profileName = namedProfile.value;
    profileSource = namedProfile.source;
    profile = await getProfile(dir, profileName, namedProfile.origin);
  } else {
    const current = await currentProfileName(dir);
    if (current !== undefined) {
      profileName = current;
      profileSource = 'default';
      profile = await getProfile(dir, current, 'currentProfile in config.json');
    }
  }
  const fromProfile = profileName === undefined ? '' : `profile "${profileName}"`;

  const environment: Picked<Environment> =
    explicitEnvironment !== undefined
      ? { ...explicitEnvironment, origin: explicitEnvironment.source === 'flag' ? '--env' : 'SMILE_ENV' }
      : profile !== undefined
        ? { value: profile.environment, source: 'profile', origin: fromProfile }
        : { value: 'sandbox', source: 'default', origin: 'default' };

  // A profile's base URL belongs to its environment: when --env/SMILE_ENV switches to the other
  // environment, that environment's default applies instead.
  const profileBaseUrl =
    profile !== undefined && profile.environment === environment.value ? profile.baseUrl : undefined;
  const baseUrlPick = pick<string>(
    { value: flagValue(flags.baseUrl, '--base-url'), source: 'flag', origin: '--base-url' },
    { value: envValue(env, 'SMILE_BASE_URL'), source: 'env', origin: 'SMILE_BASE_URL' },
    { value: profileBaseUrl, source: 'profile', origin: `the base URL of ${fromProfile}` },
  );
  const baseUrl =
    baseUrlPick === undefined
      ? { value: defaultBaseUrl(environment.value), source: 'default' as const }
      : {
          value: normalizeBaseUrl(baseUrlPick.value, environment.value, baseUrlPick.origin),
          source: baseUrlPick.source,
        };

  const callbackPick = pick<string>(
    { value: flagValue(flags.callbackUrl, '--callback-url'), source: 'flag', origin: '--callback-url' },
    { value: envValue(env, 'SMILE_CALLBACK_URL'), source: 'env', origin: 'SMILE_CALLBACK_URL' },
    { value: profile?.callbackUrl, source: 'profile', origin: `the callback URL of ${fromProfile}` },
  );
  const callbackUrl =
    callbackPick === undefined
      ? undefined
      : {
          value: assertCallbackUrl(callbackPick.value, environment.value, callbackPick.origin),
          source: callbackPick.source,
        };

  const envPartnerId = envValue(env, 'SMILE_PARTNER_ID');
  const partnerId: { value: string; source: Source } | undefined =
    envPartnerId !== undefined
      ? { value: normalizePartnerId(envPartnerId, 'SMILE_PARTNER_ID'), source: 'env' }
      : profile !== undefined
        ? { value: profile.partnerId, source: 'profile' }
        : undefined;

  let apiKey: { value: string; source: Source } | undefined;
  let keyLocation: string | undefined;
  const envKey = envValue(env, 'SMILE_API_KEY');
  const keyFile = envValue(env, 'SMILE_API_KEY_FILE');
  if (envKey !== undefined) {
    // SMILE_API_KEY wins over SMILE_API_KEY_FILE when both are set (the direct value is the more specific).
    apiKey = { value: normalizeApiKey(envKey, 'SMILE_API_KEY', AuthError), source: 'env' };
  } else if (keyFile !== undefined) {
    apiKey = { value: await readKeyFile(keyFile.trim(), 'SMILE_API_KEY_FILE', AuthError), source: 'file' };
  } else if (profileName !== undefined) {
    const store = await openCredentialStore(dir, env);
    input.onKeyStore?.({
      store: store.store,
      location: store.location,
      ...(store.fileReason === undefined ? {} : { fileReason: store.fileReason }),
      migrated: store.migrated,
      notMigrated: store.notMigrated,
    });
    keyLocation = store.location;
    const stored = await store.get(profileName);
    if (stored !== undefined) {
      // A profile's key signs for the profile's partner id only; mixing it with another partner id
      // would fail later with an opaque 2205 from the server.
      if (partnerId?.source === 'env' && profile !== undefined && partnerId.value !== profile.partnerId) {
        throw new AuthError(
          `SMILE_PARTNER_ID (${partnerId.value}) differs from the partner id of profile "${profileName}" (${profile.partnerId}), whose stored API key would be used.`,
          {
            code: 'partner_id_mismatch',
            hint: `Set SMILE_API_KEY (or SMILE_API_KEY_FILE) for partner ${partnerId.value} too, or unset SMILE_PARTNER_ID to use profile "${profileName}".`,
          },
        );
      }
      apiKey = { value: stored, source: 'credentials' };
    }
  }

  const missing: MissingSetting[] = [];
  if (partnerId === undefined) missing.push('partnerId');
  if (apiKey === undefined) missing.push('apiKey');

  const common = {
    ...(profileName === undefined ? {} : { profileName }),
    environment: environment.value,
    baseUrl: baseUrl.value,
    ...(callbackUrl === undefined ? {} : { callbackUrl: callbackUrl.value }),
    configDir: dir,
  };
  const sources = {
    environment: environment.source,
    baseUrl: baseUrl.source,
    ...(profileSource === undefined ? {} : { profile: profileSource }),
    ...(callbackUrl === undefined ? {} : { callbackUrl: callbackUrl.source }),
  };

  if (input.partial === true) {
    return {
      ...common,
      ...(partnerId === undefined ? {} : { partnerId: partnerId.value }),
      ...(apiKey === undefined ? {} : { apiKey: apiKey.value }),
      sources: {
        ...sources,
        ...(partnerId === undefined ? {} : { partnerId: partnerId.source }),
        ...(apiKey === undefined ? {} : { apiKey: apiKey.source }),
      },
      missing,
    } satisfies PartialSettings;
  }
  if (partnerId === undefined || apiKey === undefined) {
    const notCurrent = profileName === undefined && missing.length === 2 ? await profileNames(dir) : [];
    throw missingCredentialsError(missing, profileName, profile, notCurrent, keyLocation);
  }
  return {
    ...common,
    partnerId: partnerId.value,
    apiKey: apiKey.value,
    sources: { ...sources, partnerId: partnerId.source, apiKey: apiKey.source },
  } satisfies ResolvedSettings;
}
