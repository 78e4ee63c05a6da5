import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { getApiKey } from '../../../src/config/credentials.js';
import {
  addProfileWithKey,
  listProfilesWithKeys,
  readApiKeyFile,
  removeProfileAndKey,
  showEffectiveSettings,
  switchProfile,
} from '../../../src/config/profile-ops.js';
import type { NewProfile } from '../../../src/config/profile-ops.js';
import { AuthError, UsageError } from '../../../src/errors.js';
import { tempDir as makeTempDir, caught, leaks } from './helpers.js';

const posix = process.platform !== 'win32';
const MARKER = 'KEY-MARKER-0ddba11-commands';
const tempDir = () => makeTempDir('smile-profile-ops-');

describe('profile operations', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    const root = await tempDir();
    dir = path.join(root, 'smile');
    env = { HOME: path.join(root, 'home'), SMILE_CONFIG_DIR: dir };
  });

  it('add: the first profile becomes current; the key is stored and shown masked only', async () => {
    const added = await addProfileWithKey(
      { name: 'sandbox', partnerId: '085', environment: 'sandbox', apiKey: `${MARKER}\n` },
      env,
    );
    expect(added).toEqual({
      ok: true,
      name: 'sandbox',
      partner_id: '085',
      environment: 'sandbox',
      base_url: 'https://testapi.smileidentity.com/v1',
      callback_url: null,
      api_key: 'KEY-…',
      current: true,
      replaced: false,
      config_dir: dir,
      config_file: path.join(dir, 'config.json'),
      credentials_file: path.join(dir, 'credentials.json'),
      current_reason: 'sandbox',
      key_store: 'file',
      key_location: `${path.join(dir, 'credentials.json')} (mode 0600)`,
      key_store_reason: expect.stringContaining('SMILE_CONFIG_DIR') as unknown,
      keys_migrated: [],
    });
    expect(await getApiKey(dir, 'sandbox')).toBe(MARKER);

    const second = await addProfileWithKey(
      { name: 'prod', partnerId: '0042', environment: 'production', apiKey: 'prod-key-12345' },
      env,
    );
    expect(second.current).toBe(false);
    const third = await addProfileWithKey(
      { name: 'other', partnerId: '7', environment: 'sandbox', apiKey: 'other-key-12345', use: true },
      env,
    );
    expect(third.current).toBe(true);

    const list = await listProfilesWithKeys(env);
    expect(list.current_profile).toBe('other');
    expect(list.profiles.map((p) => [p.name, p.current, p.api_key])).toEqual([
      ['other', true, 'othe…'],
      ['prod', false, 'prod…'],
      ['sandbox', false, 'KEY-…'],
    ]);
    expect(JSON.stringify(list)).not.toContain(MARKER);
  });

  it('add refuses an existing name before touching its key, unless overwrite', async () => {
    await addProfileWithKey({ name: 'p', partnerId: '1', environment: 'sandbox', apiKey: 'first-key-12345' }, env);
    const error = await caught(
      addProfileWithKey({ name: 'p', partnerId: '2', environment: 'sandbox', apiKey: MARKER }, env),
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(await getApiKey(dir, 'p')).toBe('first-key-12345');
    const replaced = await addProfileWithKey(
      { name: 'p', partnerId: '2', environment: 'sandbox', apiKey: 'second-key-12345', overwrite: true },
      env,
    );
    expect(replaced.replaced).toBe(true);
    expect(await getApiKey(dir, 'p')).toBe('second-key-12345');
  });

  it('add validates everything before writing anything, and never echoes the key', async () => {
    // 'staging' is not an Environment (the CLI never passes one): refused all the same.
    const bad: Omit<NewProfile, 'apiKey'>[] = [
      { name: 'bad name', partnerId: '1', environment: 'sandbox' },
      { name: 'p', partnerId: '', environment: 'sandbox' },
      { name: 'p', partnerId: '1', environment: 'staging' as NewProfile['environment'] },
      { name: 'p', partnerId: '1', environment: 'production', baseUrl: 'http://127.0.0.1:4010/v1' },
      { name: 'p', partnerId: '1', environment: 'sandbox', baseUrl: 'http://example.com/v1' },
      { name: 'p', partnerId: '1', environment: 'production', callbackUrl: 'http://example.com/cb' },
    ];
    for (const input of bad) {
      const error = await caught(addProfileWithKey({ ...input, apiKey: MARKER }, env));
      expect(error).toBeInstanceOf(UsageError);
      expect(leaks(error, MARKER)).toBe(false);
    }
    for (const apiKey of ['', '  \n', `${MARKER} ${MARKER}`]) {
      const error = await caught(addProfileWithKey({ name: 'p', partnerId: '1', environment: 'sandbox', apiKey }, env));
      expect(error).toBeInstanceOf(UsageError);
      expect(leaks(error, MARKER)).toBe(false);
    }
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.runIf(posix)('add writes credentials 0600 and config in a 0700 directory', async () => {
    await addProfileWithKey({ name: 'p', partnerId: '1', environment: 'sandbox', apiKey: 'key-123456789' }, env);
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'credentials.json']);
    const config = await fs.readFile(path.join(dir, 'config.json'), 'utf8');
    expect(config).not.toContain('key-123456789');
  });

  it('use switches the current profile; unknown names are AuthErrors with a hint', async () => {
    await addProfileWithKey({ name: 'a', partnerId: '1', environment: 'sandbox', apiKey: 'key-a-12345678' }, env);
    await addProfileWithKey({ name: 'b', partnerId: '2', environment: 'sandbox', apiKey: 'key-b-12345678' }, env);
    expect(await switchProfile('b', env)).toEqual({ ok: true, current_profile: 'b', previous: 'a', changed: true });
    expect(await switchProfile('b', env)).toEqual({ ok: true, current_profile: 'b', previous: 'b', changed: false });
    const error = await caught(switchProfile('c', env));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).hint).toContain('Known profiles: a, b.');
    expect((error as AuthError).hint).toContain('smile profile add c');
  });

  it('show: masked key, files, environment and the source of each field', async () => {
    await addProfileWithKey(
      {
        name: 'work',
        partnerId: '085',
        environment: 'sandbox',
        apiKey: MARKER,
        callbackUrl: 'https://cb.example.com/x',
      },
      env,
    );
    const shown = await showEffectiveSettings(undefined, { env, flags: {} });
    expect(shown).toMatchObject({
      ok: true,
      profile: 'work',
      current: true,
      partner_id: '085',
      environment: 'sandbox',
      base_url: 'https://testapi.smileidentity.com/v1',
      callback_url: 'https://cb.example.com/x',
      api_key: 'KEY-…',
      sources: {
        profile: 'default',
        partner_id: 'profile',
        api_key: 'credentials',
        environment: 'profile',
        base_url: 'default',
        callback_url: 'profile',
      },
      missing: [],
      config_dir: dir,
      config_file: path.join(dir, 'config.json'),
      credentials_file: path.join(dir, 'credentials.json'),
      config_dir_source: 'env',
    });
    if (posix) expect(shown).toMatchObject({ credentials_file_mode: '0600', credentials_file_too_open: false });
    expect(JSON.stringify(shown)).not.toContain(MARKER);

    // Global flags and variables show up with their sources.
    const overridden = await showEffectiveSettings('work', {
      env: { ...env, SMILE_ENV: 'production' },
      flags: { baseUrl: 'https://proxy.example.com/v1' },
    });
    expect(overridden).toMatchObject({
      environment: 'production',
      base_url: 'https://proxy.example.com/v1',
      sources: { profile: 'flag', environment: 'env', base_url: 'flag' },
    });
  });

  it('show reports what is missing instead of failing', async () => {
    const shown = await showEffectiveSettings(undefined, { env, flags: {} });
    expect(shown).toMatchObject({
      ok: false,
      profile: null,
      partner_id: null,
      api_key: null,
      missing: ['partnerId', 'apiKey'],
      credentials_file_mode: null,
    });
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    const unknown = await caught(showEffectiveSettings('ghost', { env, flags: {} }));
    expect(unknown).toBeInstanceOf(AuthError);
    expect((unknown as AuthError).code).toBe('unknown_profile');
  });

  it('remove removes the profile and its key', async () => {
    await addProfileWithKey({ name: 'a', partnerId: '1', environment: 'sandbox', apiKey: 'key-a-12345678' }, env);
    await addProfileWithKey({ name: 'b', partnerId: '2', environment: 'sandbox', apiKey: 'key-b-12345678' }, env);
    expect(await removeProfileAndKey('a', env)).toEqual({
      ok: true,
      removed: 'a',
      was_current: true,
      key_removed: true,
      current_profile: null,
    });
    expect(await getApiKey(dir, 'a')).toBeUndefined();
    const credentials = await fs.readFile(path.join(dir, 'credentials.json'), 'utf8');
    expect(credentials).not.toContain('key-a-12345678');
    expect((await listProfilesWithKeys(env)).profiles.map((p) => p.name)).toEqual(['b']);
    expect(await caught(removeProfileAndKey('a', env))).toBeInstanceOf(AuthError);
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
