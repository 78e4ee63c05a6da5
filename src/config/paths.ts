import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The profiles file (written by conf) and the API keys file (written by us, mode 0600). */
export const CONFIG_FILE_NAME = 'config.json';
export const CREDENTIALS_FILE_NAME = 'credentials.json';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export interface ConfigPaths {
  dir: string;
  configFile: string;
  credentialsFile: string;
  /** Where `dir` came from: SMILE_CONFIG_DIR, or the platform default. */
  source: 'env' | 'default';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function homeDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  // HOME from the passed env keeps tests and subprocesses hermetic; on Windows HOME is rarely set.
  return (platform === 'win32' ? undefined : nonEmpty(env.HOME)) ?? os.homedir();
}

/**
 * conf's default directory for `projectName: 'smile', projectSuffix: ''` (env-paths' `config`), but
 * computed from the passed env instead of process.env.
 */
export function platformConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const home = homeDir(env, platform);
  if (platform === 'darwin') return p.join(home, 'Library', 'Preferences', 'smile');
  if (platform === 'win32') {
    return p.join(nonEmpty(env.APPDATA) ?? p.join(home, 'AppData', 'Roaming'), 'smile', 'Config');
  }
  return p.join(nonEmpty(env.XDG_CONFIG_HOME) ?? p.join(home, '.config'), 'smile');
}

/** The config directory: SMILE_CONFIG_DIR (a leading `~/` expanded, made absolute) or the platform default. */
export function resolveConfigPaths(env: NodeJS.ProcessEnv): ConfigPaths {
  const fromEnv = nonEmpty(env.SMILE_CONFIG_DIR)?.trim();
  let dir: string;
  if (fromEnv !== undefined) {
    const expanded =
      fromEnv === '~' || fromEnv.startsWith('~/')
        ? path.join(homeDir(env, process.platform), fromEnv.slice(1))
        : fromEnv;
    dir = path.resolve(expanded);
  } else {
    dir = platformConfigDir(env);
  }
  return {
    dir,
    configFile: path.join(dir, CONFIG_FILE_NAME),
    credentialsFile: path.join(dir, CREDENTIALS_FILE_NAME),
    source: fromEnv !== undefined ? 'env' : 'default',
  };
}

/**
 * Where smile keeps state that is not configuration (e.g. the journals of bulk runs piped on
 * stdin): `state/` inside SMILE_CONFIG_DIR when that is set (one directory to isolate or remove),
 * else the platform's state directory: $XDG_STATE_HOME/smile (default ~/.local/state/smile),
 * macOS ~/Library/Application Support/smile, Windows %LOCALAPPDATA%\smile\State. Never touches
 * the file system.
 */
export function stateDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const paths = resolveConfigPaths(env);
  if (paths.source === 'env') return path.join(paths.dir, 'state');
  const p = platform === 'win32' ? path.win32 : path.posix;
  const home = homeDir(env, platform);
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', 'smile');
  if (platform === 'win32')
    return p.join(nonEmpty(env.LOCALAPPDATA) ?? p.join(home, 'AppData', 'Local'), 'smile', 'State');
  const xdg = nonEmpty(env.XDG_STATE_HOME);
  return p.join(xdg !== undefined && p.isAbsolute(xdg) ? xdg : p.join(home, '.local', 'state'), 'smile');
}

/** Shorthand for `resolveConfigPaths(env).dir`. Never touches the file system. */
export function configDir(env: NodeJS.ProcessEnv): string {
  return resolveConfigPaths(env).dir;
}

/**
 * Creates the directory with mode 0700 (parents too) or tightens an existing one that is group- or
 * world-accessible. Only called before a write: reading never creates anything.
 */
export async function ensureConfigDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (process.platform === 'win32') return;
  const stat = await fs.stat(dir);
  if ((stat.mode & 0o077) !== 0) {
    try {
      await fs.chmod(dir, DIR_MODE);
    } catch (error) {
      // A directory we do not own (SMILE_CONFIG_DIR pointing somewhere shared) cannot be tightened;
      // the credentials file itself is still 0600. `smile doctor` reports the directory's mode.
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    }
  }
}

/** Permission bits of a path, or undefined when it does not exist. */
export async function fileMode(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
