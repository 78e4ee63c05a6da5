import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { getApiKey } from '../../../src/config/credentials.js';
import {
  addProfileCommand,
  listProfilesCommand,
  readApiKeyFile,
  removeProfileCommand,
  showProfileCommand,
  useProfileCommand,
} from '../../../src/config/profile-commands.js';
import { AuthError, UsageError } from '../../../src/errors.js';
import { tempDir as makeTempDir, caught, leaks } from './helpers.js';

const posix = process.platform !== 'win32';
const MARKER = 'KEY-MARKER-0ddba11-commands';
const tempDir = () => makeTempDir('smile-profile-cmd-');



describe('profile commands', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    const root = await tempDir();
    dir = path.join(root, 'smile');
    env = { HOME: path.join(root, 'home'), SMILE_CONFIG_DIR: dir };
  });

  it('add: the first profile becomes current; the key is stored and shown masked only', async () => {
    const added = await addProfileCommand({ name: 'sandbox', partnerId: '085', env: 'sandbox', apiKey: `${MARKER}\n` }, { env });
    expect(added).toEqual({
      name: 'sandbox',
      partnerId: '085',
      environment: 'sandbox',
      baseUrl: 'https://testapi.smileidentity.com/v1',
      callbackUrl: null,
      apiKey: 'KEY-…',
      current: true,
      replaced: false,
      configDir: dir,
      configFile: path.join(dir, 'config.json'),
      credentialsFile: path.join(dir, 'credentials.json'),
    });
    expect(await getApiKey(dir, 'sandbox')).toBe(MARKER);

    const second = await addProfileCommand({ name: 'prod', partnerId: '0042', env: 'production', apiKey: 'prod-key-12345' }, { env });
    expect(second.current).toBe(false);
    const third = await addProfileCommand({ name: 'other', partnerId: '7', env: 'sandbox', apiKey: 'other-key-12345', use: true }, { env });
    expect(third.current).toBe(true);

    const list = await listProfilesCommand({ env });
    expect(list.currentProfile).toBe('other');
    expect(list.profiles.map((p) => [p.name, p.current, p.apiKey])).toEqual([
      ['other', true, 'othe…'],
      ['prod', false, 'prod…'],
      ['sandbox', false, 'KEY-…'],
    ]);
    expect(JSON.stringify(list)).not.toContain(MARKER);
  });

  it('add refuses an existing name before touching its key, unless overwrite', async () => {
    await addProfileCommand({ name: 'p', partnerId: '1', env: 'sandbox', apiKey: 'first-key-12345' }, { env });
    const error = await caught(addProfileCommand({ name: 'p', partnerId: '2', env: 'sandbox', apiKey: MARKER }, { env }));
    expect(error).toBeInstanceOf(UsageError);
    expect(await getApiKey(dir, 'p')).toBe('first-key-12345');
    const replaced = await addProfileCommand({ name: 'p', partnerId: '2', env: 'sandbox', apiKey: 'second-key-12345', overwrite: true }, { env });
    expect(replaced.replaced).toBe(true);
    expect(await getApiKey(dir, 'p')).toBe('second-key-12345');
  });

  it('add validates everything before writing anything, and never echoes the key', async () => {
    const bad = [
      { name: 'bad name', partnerId: '1', env: 'sandbox' },
      { name: 'p', partnerId: '', env: 'sandbox' },
      { name: 'p', partnerId: '1', env: 'staging' },
      { name: 'p', partnerId: '1', env: 'production', baseUrl: 'http://127.0.0.1:4010/v1' },
      { name: 'p', partnerId: '1', env: 'sandbox', baseUrl: 'http://example.com/v1' },
      { name: 'p', partnerId: '1', env: 'production', callbackUrl: 'http://example.com/cb' },
    ];
    for (const input of bad) {
      const error = await caught(addProfileCommand({ ...input, apiKey: MARKER }, { env }));
      expect(error).toBeInstanceOf(UsageError);
      expect(leaks(error, MARKER)).toBe(false);
    }
    for (const apiKey of ['', '  \n', `${MARKER} ${MARKER}`]) {
      const error = await caught(addProfileCommand({ name: 'p', partnerId: '1', env: 'sandbox', apiKey }, { env }));
      expect(error).toBeInstanceOf(UsageError);
      expect(leaks(error, MARKER)).toBe(false);
    }
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.runIf(posix)('add writes credentials 0600 and config in a 0700 directory', async () => {
    await addProfileCommand({ name: 'p', partnerId: '1', env: 'sandbox', apiKey: 'key-123456789' }, { env });
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'credentials.json']);
    const config = await fs.readFile(path.join(dir, 'config.json'), 'utf8');
    expect(config).not.toContain('key-123456789');
  });

  it('use switches the current profile; unknown names are AuthErrors with a hint', async () => {
    await addProfileCommand({ name: 'a', partnerId: '1', env: 'sandbox', apiKey: 'key-a-12345678' }, { env });
    await addProfileCommand({ name: 'b', partnerId: '2', env: 'sandbox', apiKey: 'key-b-12345678' }, { env });
    expect(await useProfileCommand('b', { env })).toEqual({ currentProfile: 'b', previous: 'a', changed: true });
    expect(await useProfileCommand('b', { env })).toEqual({ currentProfile: 'b', previous: 'b', changed: false });
    const error = await caught(useProfileCommand('c', { env }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).hint).toContain('Known profiles: a, b.');
    expect((error as AuthError).hint).toContain('smile profile add c');
  });

  it('show: masked key, files, environment and the source of each field', async () => {
    await addProfileCommand(
      { name: 'work', partnerId: '085', env: 'sandbox', apiKey: MARKER, callbackUrl: 'https://cb.example.com/x' },
      { env },
    );
    const shown = await showProfileCommand(undefined, { env });
    expect(shown).toMatchObject({
      profile: 'work',
      current: true,
      partnerId: '085',
      environment: 'sandbox',
      baseUrl: 'https://testapi.smileidentity.com/v1',
      callbackUrl: 'https://cb.example.com/x',
      apiKey: 'KEY-…',
      sources: { profile: 'default', partnerId: 'profile', apiKey: 'credentials', environment: 'profile', baseUrl: 'default', callbackUrl: 'profile' },
      missing: [],
      configDir: dir,
      configFile: path.join(dir, 'config.json'),
      credentialsFile: path.join(dir, 'credentials.json'),
      configDirSource: 'env',
    });
    if (posix) expect(shown).toMatchObject({ credentialsFileMode: '0600', credentialsFileTooOpen: false });
    expect(JSON.stringify(shown)).not.toContain(MARKER);

    // Global flags and variables show up with their sources.
    const overridden = await showProfileCommand('work', { env: { ...env, SMILE_ENV: 'production' }, flags: { baseUrl: 'https://proxy.example.com/v1' } });
    expect(overridden).toMatchObject({ environment: 'production', baseUrl: 'https://proxy.example.com/v1', sources: { profile: 'flag', environment: 'env', baseUrl: 'flag' } });
  });

  it('show reports what is missing instead of failing', async () => {
    const shown = await showProfileCommand(undefined, { env });
    expect(shown).toMatchObject({ profile: null, partnerId: null, apiKey: null, missing: ['partnerId', 'apiKey'], credentialsFileMode: null });
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    const unknown = await caught(showProfileCommand('ghost', { env }));
    expect(unknown).toBeInstanceOf(AuthError);
    expect((unknown as AuthError).code).toBe('unknown_profile');
  });

  it('remove removes the profile and its key', async () => {
    await addProfileCommand({ name: 'a', partnerId: '1', env: 'sandbox', apiKey: 'key-a-12345678' }, { env });
    await addProfileCommand({ name: 'b', partnerId: '2', env: 'sandbox', apiKey: 'key-b-12345678' }, { env });
    expect(await removeProfileCommand('a', { env })).toEqual({ removed: 'a', wasCurrent: true, keyRemoved: true, currentProfile: null });
    expect(await getApiKey(dir, 'a')).toBeUndefined();
    const credentials = await fs.readFile(path.join(dir, 'credentials.json'), 'utf8');
    expect(credentials).not.toContain('key-a-12345678');
    expect((await listProfilesCommand({ env })).profiles.map((p) => p.name)).toEqual(['b']);
    expect(await caught(removeProfileCommand('a', { env }))).toBeInstanceOf(AuthError);
  });
});

describe('readApiKeyFile', () => {
  it('reads a file, trimmed', async () => {
    const root = await tempDir();
    const file = path.join(root, 'key');
    await fs.writeFile(file, `  ${MARKER}\n\n`);
    expect(await readApiKeyFile(file, Readable.from([]))).toBe(MARKER);
  });

  it('reads stdin to its end for "-"', async () => {
    const stdin = Readable.from([Buffer.from('KEY-MARKER-'), Buffer.from('0ddba11-commands\n')]);
    expect(await readApiKeyFile('-', stdin)).toBe(MARKER);
    expect(await readApiKeyFile('-', Readable.from(['  string-chunk-key  ']))).toBe('string-chunk-key');
  });

  it('empty input is a UsageError with a clear message', async () => {
    const fromStdin = await caught(readApiKeyFile('-', Readable.from([' \n'])));
    expect(fromStdin).toBeInstanceOf(UsageError);
    expect(fromStdin.message).toMatch(/No API key on stdin/);
    const root = await tempDir();
    const empty = path.join(root, 'empty');
    await fs.writeFile(empty, '\n');
    const fromFile = await caught(readApiKeyFile(empty, Readable.from([])));
    expect(fromFile).toBeInstanceOf(UsageError);
    expect(fromFile.message).toContain(`--api-key-file ${empty} is empty`);
  });

  it('a missing file, a directory or a huge input is a UsageError', async () => {
    const root = await tempDir();
    expect(await caught(readApiKeyFile(path.join(root, 'nope'), Readable.from([])))).toBeInstanceOf(UsageError);
    expect(await caught(readApiKeyFile(root, Readable.from([])))).toBeInstanceOf(UsageError);
    const huge = path.join(root, 'huge');
    await fs.writeFile(huge, 'x'.repeat(100_000));
    expect(await caught(readApiKeyFile(huge, Readable.from([])))).toBeInstanceOf(UsageError);
    expect(await caught(readApiKeyFile('-', Readable.from(['y'.repeat(100_000)])))).toBeInstanceOf(UsageError);
  });

  it('refuses "-" when stdin is a terminal', async () => {
    const tty = Object.assign(Readable.from([MARKER]), { isTTY: true });
    const error = await caught(readApiKeyFile('-', tty));
    expect(error).toBeInstanceOf(UsageError);
  });

  it('multi-line input is refused without echoing it', async () => {
    const error = await caught(readApiKeyFile('-', Readable.from([`${MARKER}\nsecond line ${MARKER}`])));
    expect(error).toBeInstanceOf(UsageError);
    expect(leaks(error, MARKER)).toBe(false);
  });
});
