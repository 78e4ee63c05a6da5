import { constants as fsConstants, promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import { AuthError, UsageError, fileErrorReason, printable } from '../errors.js';
import { writeFileAtomically } from '../fs/atomic.js';
import { CREDENTIALS_FILE_NAME, DIR_MODE, FILE_MODE, ensureConfigDir, fileMode } from './paths.js';
import type { SecretBackend } from './keyring.js';
import { assertProfileName } from './validate.js';

export type { SecretBackend } from './keyring.js';

/** `credentials.json`: API keys per profile, apart from the profiles' config (mode 0600). */
export type Credentials = Record<string, { apiKey: string }>;

export interface CredentialsFileStatus {
  path: string;
  exists: boolean;
  /** Permission bits (`0o600` …), undefined when the file does not exist or on Windows. */
  mode: number | undefined;
  /** True when group or others may read or write it (the file is still read). */
  tooOpen: boolean;
  dirMode: number | undefined;
  dirTooOpen: boolean;
}

/** Largest file we accept as holding one API key; guards against `--api-key-file /dev/urandom`. */
export const MAX_KEY_FILE_BYTES = 16 * 1024;

export function credentialsPath(dir: string): string {
  return path.join(dir, CREDENTIALS_FILE_NAME);
}

/**
 * Masks an API key for display: its first 4 characters then `…`; a key shorter than 8 characters
 * shows nothing of itself (`…`). Never shows more than 4 characters.
 */
export function maskKey(key: string): string {
  const chars = Array.from(key.trim());
  if (chars.length === 0) return '';
  if (chars.length < 8) return '…';
  return `${chars.slice(0, 4).join('')}…`;
}

/**
 * Trims an API key and checks it is one line of printable characters. Errors never include the key.
 * `origin` names the source in the message (`the API key`, `SMILE_API_KEY` …).
 */
export function normalizeApiKey(
  key: string,
  origin = 'The API key',
  ErrorClass: typeof UsageError | typeof AuthError = UsageError,
): string {
  const trimmed = key.trim();
  if (trimmed === '') {
    throw new ErrorClass(`${origin} is empty.`, { code: 'empty_api_key' });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new ErrorClass(`${origin} contains whitespace or control characters inside it.`, {
      code: 'bad_api_key',
      hint: 'An API key is one line; check that the file or input holds only the key.',
    });
  }
  return trimmed;
}

function invalidCredentials(file: string, reason: string): AuthError {
  // Deliberately no `cause`: JSON.parse messages quote the file's content, which holds keys.
  return new AuthError(`The credentials file ${file} ${reason}.`, {
    code: 'credentials_invalid',
    hint: `Fix or delete ${file}, then store the key again with \`smile profile add NAME --partner-id ID --env sandbox --force\`.`,
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads credentials.json; a missing file is `{}`. Keys are trimmed; entries without a usable key are
 * skipped. A file with a loose mode is still read (see credentialsFileMode).
 */
export async function readCredentials(dir: string): Promise<Credentials> {
  const file = credentialsPath(dir);
  let text: string;
  try {
    const handle = await openRegularFile(file);
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new AuthError(`The credentials file ${printable(file)} is ${fileKind(info)}, not a regular file.`, {
          code: 'credentials_unreadable',
          hint: `Remove it; \`smile profile add NAME --partner-id ID --env sandbox --force\` writes a new one (mode 0600).`,
        });
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof AuthError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return Object.create(null) as Credentials;
    throw new AuthError(`Cannot read the credentials file ${printable(file)}: ${fileErrorReason(error)}.`, {
      code: 'credentials_unreadable',
      hint: `Check the file's owner and permissions (it should be yours, mode 0600).`,
    });
  }
  if (text.trim() === '') return Object.create(null) as Credentials;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalidCredentials(file, 'is not valid JSON');
  }
  if (!isPlainObject(data)) throw invalidCredentials(file, 'is not a JSON object');
  const result = Object.create(null) as Credentials;
  for (const [profile, entry] of Object.entries(data)) {
    if (!isPlainObject(entry) || typeof entry.apiKey !== 'string') continue;
    const apiKey = entry.apiKey.trim();
    if (apiKey !== '') result[profile] = { apiKey };
  }
  return result;
}

export async function getApiKey(dir: string, profile: string): Promise<string | undefined> {
  const credentials = await readCredentials(dir);
  return Object.hasOwn(credentials, profile) ? credentials[profile]?.apiKey : undefined;
}

async function writeCredentials(dir: string, credentials: Credentials): Promise<void> {
  await ensureConfigDir(dir);
  const sorted: Credentials = {};
  for (const name of Object.keys(credentials).sort()) {
    const entry = credentials[name];
    if (entry !== undefined) sorted[name] = { apiKey: entry.apiKey };
  }
  // Atomic and 0600 whatever the umask: a crash leaves the old file or the new one, never half of one.
  await writeFileAtomically(credentialsPath(dir), `${JSON.stringify(sorted, null, 2)}\n`, { mode: FILE_MODE });
}

/** Stores (or replaces) a profile's API key. Creates the directory (0700) and file (0600) as needed. */
export async function setApiKey(dir: string, profile: string, key: string): Promise<void> {
  assertProfileName(profile);
  const apiKey = normalizeApiKey(key);
  const credentials = await readCredentials(dir);
  credentials[profile] = { apiKey };
  await writeCredentials(dir, credentials);
}

/** Removes a profile's API key; returns whether there was one. Writes nothing when there was none. */
export async function removeApiKey(dir: string, profile: string): Promise<boolean> {
  const credentials = await readCredentials(dir);
  if (!Object.hasOwn(credentials, profile)) return false;
  delete credentials[profile];
  await writeCredentials(dir, credentials);
  return true;
}

/** Mode of credentials.json and of its directory, for `smile doctor`. */
export async function credentialsFileMode(dir: string): Promise<CredentialsFileStatus> {
  const file = credentialsPath(dir);
  const posix = process.platform !== 'win32';
  const mode = await fileMode(file);
  const dirMode = await fileMode(dir);
  return {
    path: file,
    exists: mode !== undefined,
    mode: posix ? mode : undefined,
    tooOpen: posix && mode !== undefined && (mode & 0o077) !== 0,
    dirMode: posix ? dirMode : undefined,
    dirTooOpen: posix && dirMode !== undefined && (dirMode & ~DIR_MODE & 0o777) !== 0,
  };
}

/** Formats a mode as `0600`. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Reads a file holding one API key (SMILE_API_KEY_FILE, `--api-key-file`): trimmed; empty, missing or
 * oversized files are errors of `ErrorClass`. The message names the path, never the content.
 */
export async function readKeyFile(
  file: string,
  origin: string,
  ErrorClass: typeof UsageError | typeof AuthError,
): Promise<string> {
  let content: Buffer;
  const shown = printable(file);
  try {
    const handle = await openRegularFile(file);
    try {
      const stat = await handle.stat();
      if (stat.isDirectory()) {
        throw new ErrorClass(`${origin} ${shown} is a directory, not a file holding the API key.`, {
          code: 'bad_api_key_file',
        });
      }
      if (!stat.isFile()) {
        // A FIFO with no writer would block the read for ever, a device would be read without end.
        throw new ErrorClass(
          `${origin} ${shown} is ${fileKind(stat)}, not a regular file: the API key is read only from a regular file.`,
          {
            code: 'bad_api_key_file',
            hint: 'Point it at a file that holds only the API key (mode 0600).',
          },
        );
      }
      content = await readLimited(handle);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof AuthError) throw error;
    throw new ErrorClass(`Cannot read ${origin} ${shown}: ${fileErrorReason(error)}.`, {
      code: 'bad_api_key_file',
      hint: 'Point it at a file that holds only the API key.',
    });
  }
  if (content.length > MAX_KEY_FILE_BYTES) {
    throw new ErrorClass(`${origin} ${shown} is too large to hold an API key.`, { code: 'bad_api_key_file' });
  }
  const key = content.toString('utf8').trim();
  if (key === '') {
    throw new ErrorClass(`${origin} ${shown} is empty.`, {
      code: 'empty_api_key',
      hint: 'Put the API key from the Smile ID portal in that file.',
    });
  }
  return normalizeApiKey(key, `The key in ${origin} ${shown}`, ErrorClass);
}

/**
 * Opens a file for reading without ever blocking in open(): O_NONBLOCK makes opening a FIFO that
 * has no writer return at once (it has no effect on regular files). The caller fstat()s the
 * handle and refuses what is not a regular file, so the check and the read are of one file.
 */
async function openRegularFile(file: string): Promise<fs.FileHandle> {
  return fs.open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOCTTY ?? 0));
}

/** What a file that is not a regular file is, for messages. */
function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'a special file';
}

async function readLimited(handle: fs.FileHandle): Promise<Buffer> {
  // Reads at most MAX_KEY_FILE_BYTES + 1 so that a huge file (or a device) is never slurped.
  const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
  let length = 0;
  while (length < buffer.length) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return buffer.subarray(0, length);
}

/** Removes several profiles' keys from the file at once, each only while it still holds `expected`. */
async function removeMovedKeys(dir: string, moved: ReadonlyMap<string, string>): Promise<void> {
  const credentials = await readCredentials(dir);
  let changed = false;
  for (const [profile, key] of moved) {
    // A key replaced in the file meanwhile (another smile writing) is not the one that was moved: it stays.
    if (Object.hasOwn(credentials, profile) && credentials[profile]?.apiKey === key) {
      delete credentials[profile];
      changed = true;
    }
  }
  if (!changed) return;
  if (Object.keys(credentials).length > 0) {
    await writeCredentials(dir, credentials);
    return;
  }
  // Nothing left: no file, so no plaintext copy of a key remains anywhere.
  await fs.rm(credentialsPath(dir), { force: true });
}

export type CredentialStoreKind = 'keyring' | 'file';

/** Where one key went (`profile add`, `profile set`): the store, and why the file when it is the fallback. */
export interface StoredKey {
  store: CredentialStoreKind;
  /** `the OS keyring (Secret Service)`, or the file's path with its mode. */
  location: string;
  /** Set when the keyring was used for stored keys but refused this one, so it went to the file. */
  fallbackReason?: string;
}

/** What `profile add`, `profile show` and `doctor` say about where stored keys live. */
export interface CredentialStoreInfo {
  store: CredentialStoreKind;
  location: string;
  /** With the file store: why not the OS keyring. */
  fileReason?: string;
  /** Profiles whose keys were moved from credentials.json into the keyring when the store was opened. */
  migrated: string[];
  /** Keys that could not be moved (they stay in the file, still used). */
  notMigrated: { profile: string; reason: string }[];
}

/** Reads, writes and removes profiles' API keys in one store, the 0600 file always a fallback. */
export interface CredentialStore extends CredentialStoreInfo {
  get(profile: string): Promise<string | undefined>;
  set(profile: string, key: string): Promise<StoredKey>;
  remove(profile: string): Promise<boolean>;
}

/** SMILE_CREDENTIAL_STORE: `auto` (default), `keyring` (required) or `file`. */
export type CredentialStorePreference = 'auto' | 'keyring' | 'file';

/**
 * Which store to use, from the run's environment (never process.env, except to compare the D-Bus
 * address the keyring library itself will read):
 * - SMILE_CREDENTIAL_STORE=file: the file; =keyring: the keyring or an error; unset or auto:
 * - SMILE_CONFIG_DIR set: the file. A config directory of its own (tests, CI, a second setup) keeps
 *   its keys with it, in its own file, and never reads or writes the user's keyring; say
 *   SMILE_CREDENTIAL_STORE=keyring to have both.
 * - Linux without a D-Bus session in the environment (servers, containers, CI): the file, as no
 *   Secret Service can be reached.
 * - Otherwise the keyring when it answers, else the file, saying why.
 */
export function credentialStorePolicy(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  processEnv: NodeJS.ProcessEnv = process.env,
): { use: 'file'; reason: string } | { use: 'keyring'; required: boolean } | { use: 'none'; reason: string } {
  const raw = env['SMILE_CREDENTIAL_STORE']?.trim().toLowerCase() ?? '';
  const preference: CredentialStorePreference = raw === '' ? 'auto' : (raw as CredentialStorePreference);
  if (!['auto', 'keyring', 'file'].includes(preference)) {
    throw new UsageError(
      `SMILE_CREDENTIAL_STORE must be auto, keyring or file, not ${JSON.stringify(printable(env['SMILE_CREDENTIAL_STORE'] ?? ''))}.`,
      { code: 'bad_credential_store' },
    );
  }
  if (preference === 'file') return { use: 'file', reason: 'SMILE_CREDENTIAL_STORE=file' };
  const required = preference === 'keyring';
  if (!required && (env['SMILE_CONFIG_DIR']?.trim() ?? '') !== '') {
    return {
      use: 'file',
      reason:
        'SMILE_CONFIG_DIR names a config directory of its own, whose keys stay in its own file (SMILE_CREDENTIAL_STORE=keyring to use the OS keyring)',
    };
  }
  if (platform === 'linux') {
    const bus = env['DBUS_SESSION_BUS_ADDRESS']?.trim() ?? '';
    const noBus =
      bus === '' ? 'no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service' : undefined;
    // The keyring library reads the process's own environment: a run handed another one (a test
    // running the CLI in-process) must not reach the developer's keyring through it.
    const otherBus =
      bus !== '' && bus !== (processEnv['DBUS_SESSION_BUS_ADDRESS']?.trim() ?? '')
        ? "this run's DBUS_SESSION_BUS_ADDRESS is not the process's own"
        : undefined;
    const reason = noBus ?? otherBus;
    if (reason !== undefined) return required ? { use: 'none', reason } : { use: 'file', reason };
  }
  return { use: 'keyring', required };
}

function fileLocation(dir: string): string {
  return `${credentialsPath(dir)} (mode 0600)`;
}

function fileStore(dir: string, fileReason: string): CredentialStore {
  return {
    store: 'file',
    location: fileLocation(dir),
    fileReason,
    migrated: [],
    notMigrated: [],
    get: (profile) => getApiKey(dir, profile),
    async set(profile, key) {
      await setApiKey(dir, profile, key);
      return { store: 'file', location: fileLocation(dir) };
    },
    remove: (profile) => removeApiKey(dir, profile),
  };
}

function keyringUnavailable(reason: string): AuthError {
  return new AuthError(`SMILE_CREDENTIAL_STORE=keyring, but the OS keyring cannot be used: ${reason}.`, {
    code: 'keyring_unavailable',
    hint: 'Unlock or start the keyring (on Linux a Secret Service such as gnome-keyring on the D-Bus session), or set SMILE_CREDENTIAL_STORE=file.',
  });
}

function errorReason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim() || 'unknown error';
}

/** The keyring's account name of a profile: the profile and its config directory, so two directories never share an entry. */
export function keyringAccount(dir: string, profile: string): string {
  return `${profile} (${dir})`;
}

/**
 * Moves the file's keys into the keyring, never losing one: each key is written, read back and
 * compared, and only the keys read back intact are then removed from the file.
 */
async function migrateFileKeys(
  dir: string,
  backend: SecretBackend,
): Promise<Pick<CredentialStoreInfo, 'migrated' | 'notMigrated'>> {
  const credentials = await readCredentials(dir);
  const moved = new Map<string, string>();
  const notMigrated: CredentialStoreInfo['notMigrated'] = [];
  for (const [profile, entry] of Object.entries(credentials)) {
    const account = keyringAccount(dir, profile);
    try {
      await backend.set(account, entry.apiKey);
      if ((await backend.get(account)) !== entry.apiKey) throw new Error('the keyring gave back a different value');
      moved.set(profile, entry.apiKey);
    } catch (error) {
      notMigrated.push({ profile, reason: errorReason(error) });
    }
  }
  if (moved.size > 0) await removeMovedKeys(dir, moved);
  return { migrated: [...moved.keys()].sort(), notMigrated };
}

function keyringStore(
  dir: string,
  backend: SecretBackend,
  moved: Pick<CredentialStoreInfo, 'migrated' | 'notMigrated'>,
) {
  const location = `the OS keyring (${backend.name})`;
  const store: CredentialStore = {
    store: 'keyring',
    location,
    ...moved,
    async get(profile) {
      let stored: string | undefined;
      try {
        stored = await backend.get(keyringAccount(dir, profile));
      } catch (error) {
        // A key that stayed in the file (the keyring refused it) is still usable while the keyring is locked.
        const inFile = await getApiKey(dir, profile);
        if (inFile !== undefined) return inFile;
        throw new AuthError(
          `Cannot read the API key of profile "${profile}" from ${location}: ${errorReason(error)}.`,
          {
            code: 'keyring_unavailable',
            hint: 'Unlock the keyring and run again, or set SMILE_API_KEY_FILE to a file holding the key.',
          },
        );
      }
      if (stored !== undefined && stored.trim() !== '') {
        return normalizeApiKey(stored, `The API key of profile "${profile}" in ${location}`, AuthError);
      }
      return getApiKey(dir, profile);
    },
    async set(profile, key) {
      assertProfileName(profile);
      const apiKey = normalizeApiKey(key);
      const account = keyringAccount(dir, profile);
      try {
        await backend.set(account, apiKey);
        if ((await backend.get(account)) !== apiKey) throw new Error('the keyring gave back a different value');
      } catch (error) {
        // Visible fallback: the key goes to the file, and a stale keyring entry must not shadow it.
        await backend.delete(account).catch(() => false);
        await setApiKey(dir, profile, apiKey);
        return {
          store: 'file',
          location: fileLocation(dir),
          fallbackReason: `${location} refused it: ${errorReason(error)}`,
        };
      }
      await removeApiKey(dir, profile);
      return { store: 'keyring', location };
    },
    async remove(profile) {
      let removed: boolean;
      try {
        removed = await backend.delete(keyringAccount(dir, profile));
      } catch (error) {
        throw new AuthError(
          `Cannot remove the API key of profile "${profile}" from ${location}: ${errorReason(error)}.`,
          {
            code: 'keyring_unavailable',
            hint: 'Unlock the keyring and run the command again; nothing was removed.',
          },
        );
      }
      return (await removeApiKey(dir, profile)) || removed;
    },
  };
  return store;
}

export interface OpenCredentialStoreOptions {
  platform?: NodeJS.Platform;
  processEnv?: NodeJS.ProcessEnv;
  /** How to reach the keyring; by default the OS keyring (src/config/keyring.ts). */
  openKeyring?: () => Promise<{ backend?: SecretBackend; reason?: string }>;
}

/**
 * The store of a config directory's API keys (see credentialStorePolicy). With the keyring, keys
 * still in credentials.json are moved into it first (write, read back, then remove from the file).
 */
export async function openCredentialStore(
  dir: string,
  env: NodeJS.ProcessEnv,
  options: OpenCredentialStoreOptions = {},
): Promise<CredentialStore> {
  const policy = credentialStorePolicy(env, options.platform, options.processEnv);
  if (policy.use === 'none') throw keyringUnavailable(policy.reason);
  if (policy.use === 'file') return fileStore(dir, policy.reason);
  const openKeyring = options.openKeyring ?? (async () => (await import('./keyring.js')).openOsKeyring());
  const opened = await openKeyring();
  if (opened.backend === undefined) {
    const reason = opened.reason ?? 'no keyring';
    if (policy.required) throw keyringUnavailable(reason);
    return fileStore(dir, `the OS keyring is not available: ${reason}`);
  }
  return keyringStore(dir, opened.backend, await migrateFileKeys(dir, opened.backend));
}
