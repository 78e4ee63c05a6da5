import { constants as fsConstants, promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import { AuthError, UsageError, fileErrorReason, printable } from '../errors.js';
import { writeFileAtomically } from '../fs/atomic.js';
import { CREDENTIALS_FILE_NAME, DIR_MODE, FILE_MODE, ensureConfigDir, fileMode } from './paths.js';
import { assertProfileName } from './validate.js';

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
