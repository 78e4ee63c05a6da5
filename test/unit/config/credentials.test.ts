import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialsFileMode,
  getApiKey,
  maskKey,
  readCredentials,
  removeApiKey,
  setApiKey,
} from '../../../src/config/credentials.js';
import { AuthError, UsageError } from '../../../src/errors.js';
import { tempDir as makeTempDir, caught, leaks } from './helpers.js';

const posix = process.platform !== 'win32';
const MARKER = 'KEY-MARKER-7f3a9c1e-credentials';
const tempDir = () => makeTempDir('smile-creds-');

describe('credentials file', () => {
  it('stores, reads, replaces and removes keys per profile', async () => {
    const dir = path.join(await tempDir(), 'smile');
    expect(await readCredentials(dir)).toEqual({});
    await setApiKey(dir, 'sandbox', 'key-one-123456');
    await setApiKey(dir, 'prod.eu', 'key-two-123456');
    expect(await getApiKey(dir, 'sandbox')).toBe('key-one-123456');
    expect(await getApiKey(dir, 'prod.eu')).toBe('key-two-123456');
    await setApiKey(dir, 'sandbox', 'key-three-123456');
    expect(await getApiKey(dir, 'sandbox')).toBe('key-three-123456');
    expect(await removeApiKey(dir, 'sandbox')).toBe(true);
    expect(await removeApiKey(dir, 'sandbox')).toBe(false);
    expect(await getApiKey(dir, 'sandbox')).toBeUndefined();
    expect(JSON.parse(await fs.readFile(path.join(dir, 'credentials.json'), 'utf8'))).toEqual({
      'prod.eu': { apiKey: 'key-two-123456' },
    });
  });

  it('does not create anything when only reading', async () => {
    const dir = path.join(await tempDir(), 'never');
    expect(await readCredentials(dir)).toEqual({});
    expect(await getApiKey(dir, 'x')).toBeUndefined();
    expect(await removeApiKey(dir, 'x')).toBe(false);
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.runIf(posix)('writes the file 0600 in a 0700 directory, even under a loose umask', async () => {
    const dir = path.join(await tempDir(), 'smile');
    const old = process.umask(0o000);
    try {
      await setApiKey(dir, 'p', 'abcdefgh12345');
    } finally {
      process.umask(old);
    }
    expect((await fs.stat(path.join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect(await credentialsFileMode(dir)).toMatchObject({
      exists: true,
      mode: 0o600,
      tooOpen: false,
      dirMode: 0o700,
      dirTooOpen: false,
    });
  });

  it.runIf(posix)('re-tightens a loosened file on the next write', async () => {
    const dir = path.join(await tempDir(), 'smile');
    await setApiKey(dir, 'p', 'abcdefgh12345');
    await fs.chmod(path.join(dir, 'credentials.json'), 0o644);
    await setApiKey(dir, 'q', 'abcdefgh67890');
    expect((await fs.stat(path.join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
  });

  it.runIf(posix)('still reads a file with a loose mode, and reports the mode', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'credentials.json'), JSON.stringify({ p: { apiKey: 'loose-key-1234' } }));
    await fs.chmod(path.join(dir, 'credentials.json'), 0o644);
    expect(await getApiKey(dir, 'p')).toBe('loose-key-1234');
    expect(await credentialsFileMode(dir)).toMatchObject({ exists: true, mode: 0o644, tooOpen: true });
  });

  it('reports a missing file', async () => {
    const dir = await tempDir();
    expect(await credentialsFileMode(dir)).toMatchObject({
      exists: false,
      mode: undefined,
      tooOpen: false,
      path: path.join(dir, 'credentials.json'),
    });
  });

  it('writes atomically and leaves no temp files behind', async () => {
    const dir = path.join(await tempDir(), 'smile');
    await Promise.all(Array.from({ length: 8 }, (_, i) => setApiKey(dir, `p${i}`, `key-${i}-abcdefgh`)));
    for (let i = 0; i < 5; i += 1) await setApiKey(dir, 'again', `key-again-${i}-abcdefgh`);
    await removeApiKey(dir, 'again');
    expect(await fs.readdir(dir)).toEqual(['credentials.json']);
    // Whatever interleaving happened, the file is whole JSON.
    const parsed = JSON.parse(await fs.readFile(path.join(dir, 'credentials.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed).length).toBeGreaterThan(0);
  });

  it('trims keys read from the file', async () => {
    const dir = await tempDir();
    await fs.writeFile(
      path.join(dir, 'credentials.json'),
      JSON.stringify({ p: { apiKey: '  spaced-key-123\n' }, empty: { apiKey: '  ' }, bad: 3 }),
    );
    expect(await readCredentials(dir)).toEqual({ p: { apiKey: 'spaced-key-123' } });
  });

  it('trims keys on the way in and refuses empty or multi-line keys without echoing them', async () => {
    const dir = await tempDir();
    await setApiKey(dir, 'p', `  ${MARKER}\n`);
    expect(await getApiKey(dir, 'p')).toBe(MARKER);
    const empty = await caught(setApiKey(dir, 'p', ' \n'));
    expect(empty).toBeInstanceOf(UsageError);
    const twoLines = await caught(setApiKey(dir, 'p', `${MARKER}\n${MARKER}`));
    expect(twoLines).toBeInstanceOf(UsageError);
    expect(leaks(twoLines, MARKER)).toBe(false);
  });

  it('a corrupt file is an AuthError that does not quote its content', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'credentials.json'), `{"p": {"apiKey": "${MARKER}"`);
    const error = await caught(readCredentials(dir));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).exitCode).toBe(3);
    expect(error.message).toContain('credentials.json');
    expect(leaks(error, MARKER)).toBe(false);
    await fs.writeFile(path.join(dir, 'credentials.json'), `["${MARKER}"]`);
    const notObject = await caught(getApiKey(dir, 'p'));
    expect(leaks(notObject, MARKER)).toBe(false);
  });
});

describe('maskKey', () => {
  it('shows the first 4 characters then …', () => {
    expect(maskKey('abcd1234efgh5678')).toBe('abcd…');
    expect(maskKey('12345678')).toBe('1234…');
  });

  it('shows nothing of a key shorter than 8 characters', () => {
    expect(maskKey('1234567')).toBe('…');
    expect(maskKey('ab')).toBe('…');
    expect(maskKey('')).toBe('');
  });

  it('never shows more than 4 characters', () => {
    for (const key of ['x'.repeat(8), 'y'.repeat(100), MARKER]) {
      const masked = maskKey(key);
      expect(masked.replace('…', '').length).toBeLessThanOrEqual(4);
      expect(masked).not.toContain(key.slice(0, 5));
    }
  });
});
