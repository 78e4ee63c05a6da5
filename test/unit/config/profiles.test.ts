import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getApiKey, setApiKey } from '../../../src/config/credentials.js';
import {
  addProfile,
  currentProfileName,
  findProfile,
  getProfile,
  listProfiles,
  removeProfile,
  useProfile,
} from '../../../src/config/profiles.js';
import { AuthError, UsageError } from '../../../src/errors.js';
import { tempDir as makeTempDir, caught } from './helpers.js';

const posix = process.platform !== 'win32';
const tempDir = () => makeTempDir('smile-profiles-');

describe('profiles', () => {
  it('adds profiles; the first becomes current; use switches; list is sorted', async () => {
    const dir = path.join(await tempDir(), 'smile');
    const first = await addProfile(dir, 'sandbox', { partnerId: '085', environment: 'sandbox' });
    expect(first).toEqual({
      name: 'sandbox',
      profile: { partnerId: '085', environment: 'sandbox' },
      replaced: false,
      current: true,
    });
    const second = await addProfile(dir, 'acme.prod', {
      partnerId: '0042',
      environment: 'production',
      baseUrl: 'https://api.smileidentity.com/v1/',
      callbackUrl: 'https://hooks.acme.test/smile',
    });
    expect(second.current).toBe(false);
    expect(await currentProfileName(dir)).toBe('sandbox');
    expect(await useProfile(dir, 'acme.prod')).toEqual({ previous: 'sandbox' });
    expect(await currentProfileName(dir)).toBe('acme.prod');
    expect(await listProfiles(dir)).toEqual([
      {
        name: 'acme.prod',
        current: true,
        partnerId: '0042',
        environment: 'production',
        baseUrl: 'https://api.smileidentity.com/v1',
        callbackUrl: 'https://hooks.acme.test/smile',
      },
      { name: 'sandbox', current: false, partnerId: '085', environment: 'sandbox' },
    ]);
    // Dots in names are keys, not paths (conf's dot notation is off).
    const stored = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as {
      profiles: Record<string, unknown>;
    };
    expect(Object.keys(stored.profiles)).toEqual(['acme.prod', 'sandbox']);
    expect(await getProfile(dir, 'acme.prod')).toMatchObject({ partnerId: '0042' });
  });

  it('keeps partner ids with leading zeros as strings in the file', async () => {
    const dir = await tempDir();
    await addProfile(dir, 'p', { partnerId: ' 085 ', environment: 'sandbox' });
    const text = await fs.readFile(path.join(dir, 'config.json'), 'utf8');
    expect(text).toContain('"085"');
    expect((await getProfile(dir, 'p')).partnerId).toBe('085');
  });

  it('refuses to replace an existing profile unless overwrite', async () => {
    const dir = await tempDir();
    await addProfile(dir, 'p', { partnerId: '1', environment: 'sandbox' });
    const error = await caught(addProfile(dir, 'p', { partnerId: '2', environment: 'sandbox' }));
    expect(error).toBeInstanceOf(UsageError);
    expect((await getProfile(dir, 'p')).partnerId).toBe('1');
    const replaced = await addProfile(dir, 'p', { partnerId: '2', environment: 'production' }, { overwrite: true });
    expect(replaced).toMatchObject({ replaced: true, current: true });
    expect(await getProfile(dir, 'p')).toEqual({ partnerId: '2', environment: 'production' });
  });

  it('validates what it stores', async () => {
    const dir = await tempDir();
    // Thunks, not promises: each rejection is awaited as soon as it happens.
    const cases: Array<() => Promise<unknown>> = [
      () => addProfile(dir, 'bad name', { partnerId: '1', environment: 'sandbox' }),
      () => addProfile(dir, 'p', { partnerId: '', environment: 'sandbox' }),
      () => addProfile(dir, 'p', { partnerId: '1', environment: 'staging' as 'sandbox' }),
      () => addProfile(dir, 'p', { partnerId: '1', environment: 'sandbox', baseUrl: 'http://example.com/v1' }),
      () => addProfile(dir, 'p', { partnerId: '1', environment: 'production', baseUrl: 'http://127.0.0.1:4010/v1' }),
      () =>
        addProfile(dir, 'p', { partnerId: '1', environment: 'production', callbackUrl: 'http://hooks.example.com/' }),
    ];
    for (const run of cases) expect(await caught(run())).toBeInstanceOf(UsageError);
    // Nothing was written for refused profiles.
    await expect(fs.stat(path.join(dir, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await addProfile(dir, 'emu', {
      partnerId: '1',
      environment: 'sandbox',
      baseUrl: 'http://127.0.0.1:4010/v1/',
      callbackUrl: 'http://example.com/cb',
    });
    expect(await getProfile(dir, 'emu')).toEqual({
      partnerId: '1',
      environment: 'sandbox',
      baseUrl: 'http://127.0.0.1:4010/v1',
      callbackUrl: 'http://example.com/cb',
    });
  });

  it('an unknown profile is an AuthError whose hint lists the known profiles and `smile profile add`', async () => {
    const dir = await tempDir();
    const none = await caught(getProfile(dir, 'work'));
    expect(none).toBeInstanceOf(AuthError);
    expect((none as AuthError).exitCode).toBe(3);
    expect((none as AuthError).hint).toContain('No profiles are configured yet');
    expect((none as AuthError).hint).toContain('smile profile add work --partner-id ID --env sandbox');

    await addProfile(dir, 'b', { partnerId: '1', environment: 'sandbox' });
    await addProfile(dir, 'a', { partnerId: '2', environment: 'sandbox' });
    for (const run of [
      () => getProfile(dir, 'work'),
      () => useProfile(dir, 'work'),
      () => removeProfile(dir, 'work'),
    ]) {
      const error = await caught(run());
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toContain('Unknown profile "work"');
      expect((error as AuthError).hint).toContain('Known profiles: a, b.');
      expect((error as AuthError).hint).toContain('smile profile add');
      expect((error as AuthError).code).toBe('unknown_profile');
    }
    expect(await findProfile(dir, 'work')).toBeUndefined();
  });

  it('remove also removes the key, and clears current when it was current', async () => {
    const dir = await tempDir();
    await addProfile(dir, 'a', { partnerId: '1', environment: 'sandbox' });
    await addProfile(dir, 'b', { partnerId: '2', environment: 'sandbox' });
    await setApiKey(dir, 'a', 'key-a-12345678');
    await setApiKey(dir, 'b', 'key-b-12345678');
    expect(await removeProfile(dir, 'a')).toEqual({
      name: 'a',
      wasCurrent: true,
      keyRemoved: true,
      currentProfile: undefined,
    });
    expect(await getApiKey(dir, 'a')).toBeUndefined();
    expect(await getApiKey(dir, 'b')).toBe('key-b-12345678');
    expect(await currentProfileName(dir)).toBeUndefined();
    // With no current profile, the next profile added becomes current.
    expect((await addProfile(dir, 'c', { partnerId: '3', environment: 'sandbox' })).current).toBe(true);
    expect(await removeProfile(dir, 'b')).toEqual({
      name: 'b',
      wasCurrent: false,
      keyRemoved: true,
      currentProfile: 'c',
    });
  });

  it.runIf(posix)('creates config.json 0600 in a 0700 directory', async () => {
    const dir = path.join(await tempDir(), 'nested', 'smile');
    await addProfile(dir, 'p', { partnerId: '1', environment: 'sandbox' });
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
  });

  it('reading never creates the directory', async () => {
    const dir = path.join(await tempDir(), 'absent');
    expect(await listProfiles(dir)).toEqual([]);
    expect(await currentProfileName(dir)).toBeUndefined();
    await caught(getProfile(dir, 'x'));
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('concurrent writers leave a whole file and no temp files', async () => {
    const dir = await tempDir();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => addProfile(dir, `p${i}`, { partnerId: String(i), environment: 'sandbox' })),
    );
    const names = (await listProfiles(dir)).map((p) => p.name);
    expect(names).toHaveLength(10);
    expect(await fs.readdir(dir)).toEqual(['config.json']);
  });

  it('keeps keys it does not own (conf internals) when writing', async () => {
    const dir = await tempDir();
    await fs.writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ __internal__: { migrations: { version: '1.0.0' } }, profiles: {} }),
    );
    await addProfile(dir, 'p', { partnerId: '1', environment: 'sandbox' });
    const stored = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(stored.__internal__).toEqual({ migrations: { version: '1.0.0' } });
  });

  it('a hand-broken config is an AuthError naming the file', async () => {
    const dir = await tempDir();
    await fs.writeFile(path.join(dir, 'config.json'), '{"profiles": ');
    const error = await caught(listProfiles(dir));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain(path.join(dir, 'config.json'));
    const writing = await caught(addProfile(dir, 'p', { partnerId: '1', environment: 'sandbox' }));
    expect(writing).toBeInstanceOf(AuthError);

    await fs.writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ profiles: { p: { partnerId: 85, environment: 'sandbox' } } }),
    );
    const numeric = await caught(getProfile(dir, 'p'));
    expect(numeric).toBeInstanceOf(AuthError);
    expect(numeric.message).toMatch(/partnerId/);
  });
});
