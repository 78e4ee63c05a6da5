import { UsageError } from '../errors.js';
import {
  MAX_KEY_FILE_BYTES,
  credentialsFileMode,
  formatMode,
  maskKey,
  normalizeApiKey,
  readCredentials,
  readKeyFile,
  setApiKey,
} from './credentials.js';
import { resolveConfigPaths } from './paths.js';
import { addProfile, currentProfileName, getProfile, listProfiles, profileNames, removeProfile, useProfile, validateProfile } from './profiles.js';
import { type SettingsFlags, type Source, resolveSettings } from './resolve.js';
import { type Environment, assertProfileName, defaultBaseUrl, parseEnvironment } from './validate.js';

/** What the profile services need from the run: the environment (and the global flags, for show). */
export interface ProfileCommandContext {
  env: NodeJS.ProcessEnv;
  flags?: SettingsFlags;
}

export interface AddProfileCommandInput {
  name: string;
  partnerId: string;
  /** `--env`: "sandbox" or "production". */
  env: string;
  baseUrl?: string;
  callbackUrl?: string;
  /** Already obtained by the caller (--api-key-file PATH|-, or the hidden prompt). Never echoed back. */
  apiKey: string;
  /** Make it the current profile (the first profile becomes current anyway). */
  use?: boolean;
  /** Replace an existing profile of that name (its key too). */
  overwrite?: boolean;
}

export interface ConfigFiles {
  configDir: string;
  configFile: string;
  credentialsFile: string;
}

export interface AddProfileCommandResult extends ConfigFiles {
  name: string;
  partnerId: string;
  environment: Environment;
  /** The effective base URL (the environment's default when none was given). */
  baseUrl: string;
  callbackUrl: string | null;
  /** Masked: first 4 characters then `…`. */
  apiKey: string;
  current: boolean;
  replaced: boolean;
}

export interface ProfileListItem {
  name: string;
  current: boolean;
  partnerId: string;
  environment: Environment;
  baseUrl: string;
  baseUrlIsDefault: boolean;
  callbackUrl: string | null;
  /** Masked key, or null when the credentials file has none for this profile. */
  apiKey: string | null;
}

export interface ListProfilesCommandResult extends ConfigFiles {
  currentProfile: string | null;
  profiles: ProfileListItem[];
}

export interface UseProfileCommandResult {
  currentProfile: string;
  previous: string | null;
  changed: boolean;
}

export interface ShowProfileCommandResult extends ConfigFiles {
  /** The profile in use (named, SMILE_PROFILE, or current), or null when none. */
  profile: string | null;
  current: boolean;
  partnerId: string | null;
  environment: Environment;
  baseUrl: string;
  callbackUrl: string | null;
  /** Masked key, or null when missing. */
  apiKey: string | null;
  sources: {
    profile: Source | null;
    partnerId: Source | null;
    apiKey: Source | null;
    environment: Source;
    baseUrl: Source;
    callbackUrl: Source | null;
  };
  /** What a real run would fail on (`partnerId`, `apiKey`); empty when nothing is missing. */
  missing: string[];
  configDirSource: 'env' | 'default';
  credentialsFileMode: string | null;
  /** True when credentials.json is readable by group or others (it is still used). */
  credentialsFileTooOpen: boolean;
}

export interface RemoveProfileCommandResult {
  removed: string;
  wasCurrent: boolean;
  keyRemoved: boolean;
  currentProfile: string | null;
}

function files(env: NodeJS.ProcessEnv): ConfigFiles {
  const paths = resolveConfigPaths(env);
  return { configDir: paths.dir, configFile: paths.configFile, credentialsFile: paths.credentialsFile };
}

/**
 * `smile profile add`: validates everything before writing anything, stores the key in
 * credentials.json (0600) and the profile in config.json. The first profile becomes current.
 */
export async function addProfileCommand(input: AddProfileCommandInput, ctx: ProfileCommandContext): Promise<AddProfileCommandResult> {
  const name = assertProfileName(input.name);
  const environment = parseEnvironment(input.env, '--env');
  const profile = validateProfile({
    partnerId: input.partnerId,
    environment,
    ...(input.baseUrl === undefined ? {} : { baseUrl: input.baseUrl }),
    ...(input.callbackUrl === undefined ? {} : { callbackUrl: input.callbackUrl }),
  });
  const apiKey = normalizeApiKey(input.apiKey);
  const paths = files(ctx.env);
  const dir = paths.configDir;

  // Refuse before the key is written, so an existing profile's key is never replaced by accident.
  if (input.overwrite !== true && (await profileNames(dir)).includes(name)) {
    throw new UsageError(`Profile "${name}" already exists.`, {
      code: 'profile_exists',
      hint: `Pass --force to replace it, or remove it first with \`smile profile remove ${name}\`.`,
    });
  }
  await setApiKey(dir, name, apiKey);
  const added = await addProfile(dir, name, profile, { overwrite: input.overwrite === true });
  let current = added.current;
  if (input.use === true && !current) {
    await useProfile(dir, name);
    current = true;
  }
  return {
    name,
    partnerId: added.profile.partnerId,
    environment: added.profile.environment,
    baseUrl: added.profile.baseUrl ?? defaultBaseUrl(environment),
    callbackUrl: added.profile.callbackUrl ?? null,
    apiKey: maskKey(apiKey),
    current,
    replaced: added.replaced,
    ...paths,
  };
}

/** `smile profile list`: every profile with its masked key (or null). */
export async function listProfilesCommand(ctx: ProfileCommandContext): Promise<ListProfilesCommandResult> {
  const paths = files(ctx.env);
  const profiles = await listProfiles(paths.configDir);
  const credentials = profiles.length === 0 ? {} : await readCredentials(paths.configDir);
  return {
    currentProfile: profiles.find((p) => p.current)?.name ?? null,
    profiles: profiles.map((p) => {
      const key = Object.hasOwn(credentials, p.name) ? credentials[p.name]?.apiKey : undefined;
      return {
        name: p.name,
        current: p.current,
        partnerId: p.partnerId,
        environment: p.environment,
        baseUrl: p.baseUrl ?? defaultBaseUrl(p.environment),
        baseUrlIsDefault: p.baseUrl === undefined,
        callbackUrl: p.callbackUrl ?? null,
        apiKey: key === undefined ? null : maskKey(key),
      };
    }),
    ...paths,
  };
}

/** `smile profile use NAME`. */
export async function useProfileCommand(name: string, ctx: ProfileCommandContext): Promise<UseProfileCommandResult> {
  const { previous } = await useProfile(files(ctx.env).configDir, name);
  return { currentProfile: name, previous: previous ?? null, changed: previous !== name };
}

/**
 * `smile profile show [NAME]`: the effective settings of NAME (or of --profile / SMILE_PROFILE / the
 * current profile) with the source of each, the masked key, and the files. Never fails on a missing
 * key or partner id: it lists them in `missing`.
 */
export async function showProfileCommand(name: string | undefined, ctx: ProfileCommandContext): Promise<ShowProfileCommandResult> {
  const paths = resolveConfigPaths(ctx.env);
  const flags: SettingsFlags = { ...ctx.flags, ...(name === undefined ? {} : { profile: name }) };
  if (name !== undefined) await getProfile(paths.dir, name);
  const settings = await resolveSettings({ flags, env: ctx.env, partial: true });
  const mode = await credentialsFileMode(paths.dir);
  const profileName = settings.profileName ?? null;
  const currentName = await currentProfileName(paths.dir);
  return {
    profile: profileName,
    current: profileName !== null && profileName === currentName,
    partnerId: settings.partnerId ?? null,
    environment: settings.environment,
    baseUrl: settings.baseUrl,
    callbackUrl: settings.callbackUrl ?? null,
    apiKey: settings.apiKey === undefined ? null : maskKey(settings.apiKey),
    sources: {
      profile: settings.sources.profile ?? null,
      partnerId: settings.sources.partnerId ?? null,
      apiKey: settings.sources.apiKey ?? null,
      environment: settings.sources.environment,
      baseUrl: settings.sources.baseUrl,
      callbackUrl: settings.sources.callbackUrl ?? null,
    },
    missing: [...settings.missing],
    configDir: paths.dir,
    configFile: paths.configFile,
    credentialsFile: paths.credentialsFile,
    configDirSource: paths.source,
    credentialsFileMode: mode.mode === undefined ? null : formatMode(mode.mode),
    credentialsFileTooOpen: mode.tooOpen,
  };
}

/** `smile profile remove NAME`: the profile and its key. */
export async function removeProfileCommand(name: string, ctx: ProfileCommandContext): Promise<RemoveProfileCommandResult> {
  const result = await removeProfile(files(ctx.env).configDir, name);
  return {
    removed: result.name,
    wasCurrent: result.wasCurrent,
    keyRemoved: result.keyRemoved,
    currentProfile: result.currentProfile ?? null,
  };
}

/**
 * Reads the API key for `--api-key-file PATH`, or from stdin to its end for `-`. Trimmed; empty,
 * multi-line or oversized input is a UsageError. Refuses `-` when stdin is a terminal (the key would
 * be echoed): the caller's hidden prompt is the way there.
 */
export async function readApiKeyFile(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (path !== '-') return readKeyFile(path, '--api-key-file', UsageError);
  if ((stdin as { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('--api-key-file - reads the key from stdin, but stdin is a terminal (the key would be echoed).', {
      code: 'usage',
      hint: 'Pipe the key in (`… | smile profile add …`), or leave out --api-key-file to be asked for it without echo.',
    });
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
