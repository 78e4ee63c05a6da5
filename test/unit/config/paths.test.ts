import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configDir, ensureConfigDir, platformConfigDir, resolveConfigPaths } from '../../../src/config/paths.js';
import { tempDir as makeTempDir } from './helpers.js';

const posix = process.platform !== 'win32';
const tempDir = () => makeTempDir('smile-paths-');

describe('config directory', () => {
  it('uses SMILE_CONFIG_DIR when set, made absolute', () => {
    const paths = resolveConfigPaths({ SMILE_CONFIG_DIR: '/tmp/somewhere/smile' });
    expect(paths).toEqual({
      dir: path.resolve('/tmp/somewhere/smile'),
      configFile: path.join(path.resolve('/tmp/somewhere/smile'), 'config.json'),
      credentialsFile: path.join(path.resolve('/tmp/somewhere/smile'), 'credentials.json'),
      source: 'env',
    });
    expect(configDir({ SMILE_CONFIG_DIR: 'rel/dir' })).toBe(path.resolve('rel/dir'));
  });

  it('expands a leading ~/ with HOME from the passed env', () => {
    expect(configDir({ SMILE_CONFIG_DIR: '~/cfg', HOME: '/home/ci' })).toBe(path.resolve('/home/ci/cfg'));
  });

  it('ignores an empty SMILE_CONFIG_DIR', () => {
    expect(resolveConfigPaths({ SMILE_CONFIG_DIR: '', HOME: '/home/u', XDG_CONFIG_HOME: '' }).source).toBe('default');
  });

  it("matches conf's default for projectName smile, projectSuffix '' on each platform", () => {
    expect(platformConfigDir({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.config/smile');
    expect(platformConfigDir({ HOME: '/home/u', XDG_CONFIG_HOME: '/xdg' }, 'linux')).toBe('/xdg/smile');
    expect(platformConfigDir({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Preferences/smile');
    expect(platformConfigDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\smile\\Config',
    );
  });

  it.runIf(posix)('creates the directory with mode 0700', async () => {
    const dir = path.join(await tempDir(), 'a', 'smile');
    await ensureConfigDir(dir);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
  });

  it.runIf(posix)('tightens an existing directory that is too open', async () => {
    const dir = path.join(await tempDir(), 'smile');
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(dir, 0o755);
    await ensureConfigDir(dir);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
  });
});
