import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { setApiKey } from '../../../src/config/credentials.js';
import { addProfile } from '../../../src/config/profiles.js';
import { type ResolvedSettings, type SettingsFlags, resolveSettings } from '../../../src/config/resolve.js';
import { AuthError, UsageError } from '../../../src/errors.js';
import { tempDir as makeTempDir, caught, leaks } from './helpers.js';

const MARKER = 'KEY-MARKER-51c0ffee-resolve';
const SANDBOX = 'https://testapi.smileidentity.com/v1';
const PRODUCTION = 'https://api.smileidentity.com/v1';

const tempDir = () => makeTempDir('smile-resolve-');

describe('resolveSettings with profiles', () => {
  let dir: string;
  let base: NodeJS.ProcessEnv;

  beforeEach(async () => {
    const root = await tempDir();
    dir = path.join(root, 'config');
    base = { HOME: path.join(root, 'home'), SMILE_CONFIG_DIR: dir };
    await addProfile(dir, 'work', {
      partnerId: '085',
      environment: 'sandbox',
      baseUrl: 'https://work.example.com/v1/',
      callbackUrl: 'https://cb.work.example.com/smile',
    });
    await addProfile(dir, 'prod', { partnerId: '0042', environment: 'production' });
    await setApiKey(dir, 'work', 'work-key-123456');
    await setApiKey(dir, 'prod', 'prod-key-123456');
  });

  async function resolve(flags: SettingsFlags, env: NodeJS.ProcessEnv = {}): Promise<ResolvedSettings> {
    return resolveSettings({ flags, env: { ...base, ...env } });
  }

  it('uses the current profile when nothing else is given', async () => {
    expect(await resolve({})).toEqual({
      profileName: 'work',
      partnerId: '085',
      apiKey: 'work-key-123456',
      environment: 'sandbox',
      baseUrl: 'https://work.example.com/v1',
      callbackUrl: 'https://cb.work.example.com/smile',
      configDir: dir,
      sources: {
        profile: 'default',
        partnerId: 'profile',
        apiKey: 'credentials',
        environment: 'profile',
        baseUrl: 'profile',
        callbackUrl: 'profile',
      },
    });
  });

  // flag > environment variable > profile > default, field by field.
  const table: Array<{
    title: string;
    flags: SettingsFlags;
    env: NodeJS.ProcessEnv;
    expect: Omit<Partial<ResolvedSettings>, 'sources'> & { sources: Partial<ResolvedSettings['sources']> };
  }> = [
    {
      title: 'profile: SMILE_PROFILE beats the current profile',
      flags: {},
      env: { SMILE_PROFILE: 'prod' },
      expect: {
        profileName: 'prod',
        partnerId: '0042',
        apiKey: 'prod-key-123456',
        environment: 'production',
        baseUrl: PRODUCTION,
        sources: { profile: 'env', baseUrl: 'default', environment: 'profile' },
      },
    },
    {
      title: 'profile: --profile beats SMILE_PROFILE',
      flags: { profile: 'work' },
      env: { SMILE_PROFILE: 'prod' },
      expect: {
        profileName: 'work',
        partnerId: '085',
        sources: { profile: 'flag', partnerId: 'profile', apiKey: 'credentials' },
      },
    },
    {
      title: 'environment: SMILE_ENV beats the profile, and the profile base URL no longer applies',
      flags: {},
      env: { SMILE_ENV: 'production' },
      expect: { environment: 'production', baseUrl: PRODUCTION, sources: { environment: 'env', baseUrl: 'default' } },
    },
    {
      title: 'environment: --env beats SMILE_ENV',
      flags: { env: 'sandbox' },
      env: { SMILE_ENV: 'production' },
      expect: {
        environment: 'sandbox',
        baseUrl: 'https://work.example.com/v1',
        sources: { environment: 'flag', baseUrl: 'profile' },
      },
    },
    {
      title: 'base URL: SMILE_BASE_URL beats the profile (trailing slash stripped)',
      flags: {},
      env: { SMILE_BASE_URL: 'https://env.example.com/v1/' },
      expect: { baseUrl: 'https://env.example.com/v1', sources: { baseUrl: 'env' } },
    },
    {
      title: 'base URL: --base-url beats SMILE_BASE_URL',
      flags: { baseUrl: 'https://flag.example.com/v1' },
      env: { SMILE_BASE_URL: 'https://env.example.com/v1' },
      expect: { baseUrl: 'https://flag.example.com/v1', sources: { baseUrl: 'flag' } },
    },
    {
      title: 'callback URL: SMILE_CALLBACK_URL beats the profile',
      flags: {},
      env: { SMILE_CALLBACK_URL: 'https://env-cb.example.com/' },
      expect: { callbackUrl: 'https://env-cb.example.com/', sources: { callbackUrl: 'env' } },
    },
    {
      title: 'callback URL: --callback-url beats SMILE_CALLBACK_URL',
      flags: { callbackUrl: 'https://flag-cb.example.com/' },
      env: { SMILE_CALLBACK_URL: 'https://env-cb.example.com/' },
      expect: { callbackUrl: 'https://flag-cb.example.com/', sources: { callbackUrl: 'flag' } },
    },
    {
      title: 'partner id and key: SMILE_PARTNER_ID + SMILE_API_KEY beat the profile',
      flags: {},
      env: { SMILE_PARTNER_ID: '0999', SMILE_API_KEY: 'env-key-123456' },
      expect: {
        partnerId: '0999',
        apiKey: 'env-key-123456',
        sources: { partnerId: 'env', apiKey: 'env', environment: 'profile' },
      },
    },
    {
      title: 'key: SMILE_API_KEY beats the credentials file, partner id stays the profile one',
      flags: {},
      env: { SMILE_API_KEY: 'env-key-123456' },
      expect: { partnerId: '085', apiKey: 'env-key-123456', sources: { partnerId: 'profile', apiKey: 'env' } },
    },
    {
      title: 'empty variables count as unset',
      flags: {},
      env: { SMILE_ENV: '', SMILE_PROFILE: '  ', SMILE_API_KEY: '', SMILE_BASE_URL: '' },
      expect: {
        profileName: 'work',
        environment: 'sandbox',
        sources: { profile: 'default', apiKey: 'credentials', baseUrl: 'profile' },
      },
    },
  ];

  it.each(table)('$title', async (row) => {
    const settings = await resolve(row.flags, row.env);
    const { sources, ...fields } = row.expect;
    expect(settings).toMatchObject(fields);
    expect(settings.sources).toMatchObject(sources);
  });

  it('an unknown --profile or SMILE_PROFILE is an AuthError listing the known profiles', async () => {
    for (const [flags, env, origin] of [
      [{ profile: 'nope' }, {}, '--profile'],
      [{}, { SMILE_PROFILE: 'nope' }, 'SMILE_PROFILE'],
    ] as const) {
      const error = await caught(resolve(flags, env));
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toBe(`Unknown profile "nope" (from ${origin}).`);
      expect((error as AuthError).hint).toContain('Known profiles: prod, work.');
      expect((error as AuthError).hint).toContain('smile profile add nope --partner-id ID --env sandbox');
    }
  });

  it('a profile without a stored key says how to store one', async () => {
    await addProfile(dir, 'nokey', { partnerId: '007', environment: 'production' });
    const error = await caught(resolve({ profile: 'nokey' }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('no_api_key');
    expect((error as AuthError).hint).toContain('smile profile add nokey --partner-id 007 --env production --force');
    expect((error as AuthError).hint).toContain('SMILE_API_KEY');
  });

  it("refuses to sign with a profile's key for another partner id", async () => {
    await setApiKey(dir, 'work', MARKER);
    const error = await caught(resolve({}, { SMILE_PARTNER_ID: '0999' }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('partner_id_mismatch');
    expect(leaks(error, MARKER)).toBe(false);
  });

  it('refuses an http base URL stored in a profile once the environment is production', async () => {
    await addProfile(dir, 'emu', { partnerId: '1', environment: 'sandbox', baseUrl: 'http://127.0.0.1:4010/v1' });
    await setApiKey(dir, 'emu', 'emu-key-123456');
    expect((await resolve({ profile: 'emu' })).baseUrl).toBe('http://127.0.0.1:4010/v1');
    // Switching environment drops the profile's URL: production gets its own default, never the emulator.
    expect((await resolve({ profile: 'emu', env: 'production' })).baseUrl).toBe(PRODUCTION);
    const error = await caught(
      resolve({ profile: 'emu', env: 'production' }, { SMILE_BASE_URL: 'http://127.0.0.1:4010/v1' }),
    );
    expect(error).toBeInstanceOf(UsageError);
  });

  it('partial mode reports what is missing instead of failing', async () => {
    await addProfile(dir, 'nokey', { partnerId: '007', environment: 'sandbox' });
    const settings = await resolveSettings({ flags: { profile: 'nokey' }, env: base, partial: true });
    expect(settings.missing).toEqual(['apiKey']);
    expect(settings.partnerId).toBe('007');
    expect(settings.apiKey).toBeUndefined();
    expect(settings.sources.apiKey).toBeUndefined();
    expect(settings.sources.partnerId).toBe('profile');
  });
});

describe('resolveSettings without profiles', () => {
  it('CI mode: SMILE_PARTNER_ID + SMILE_API_KEY alone work and create nothing', async () => {
    const home = await tempDir();
    const env = { HOME: home, SMILE_PARTNER_ID: '085', SMILE_API_KEY: ' ci-key-123456\n' };
    const settings = await resolveSettings({ flags: {}, env });
    expect(settings).toEqual({
      partnerId: '085',
      apiKey: 'ci-key-123456',
      environment: 'sandbox',
      baseUrl: SANDBOX,
      configDir: path.join(home, '.config', 'smile'),
      sources: { partnerId: 'env', apiKey: 'env', environment: 'default', baseUrl: 'default' },
    });
    expect(await fs.readdir(home)).toEqual([]);

    const missingDir = path.join(home, 'not-here');
    const production = await resolveSettings({
      flags: {},
      env: { ...env, SMILE_CONFIG_DIR: missingDir, SMILE_ENV: 'production' },
    });
    expect(production).toMatchObject({
      environment: 'production',
      baseUrl: PRODUCTION,
      sources: { environment: 'env', baseUrl: 'default' },
    });
    expect(await fs.readdir(home)).toEqual([]);
  });

  it('SMILE_API_KEY_FILE: trimmed content, source file; SMILE_API_KEY wins over it', async () => {
    const root = await tempDir();
    const keyFile = path.join(root, 'key.txt');
    await fs.writeFile(keyFile, '\n  file-key-123456 \r\n');
    const env = { HOME: root, SMILE_PARTNER_ID: '085', SMILE_API_KEY_FILE: keyFile };
    const settings = await resolveSettings({ flags: {}, env });
    expect(settings.apiKey).toBe('file-key-123456');
    expect(settings.sources.apiKey).toBe('file');
    const both = await resolveSettings({ flags: {}, env: { ...env, SMILE_API_KEY: 'env-key-123456' } });
    expect(both.apiKey).toBe('env-key-123456');
    expect(both.sources.apiKey).toBe('env');
  });

  it('SMILE_API_KEY_FILE missing or empty is an AuthError naming the path, not the content', async () => {
    const root = await tempDir();
    const missing = path.join(root, 'missing.txt');
    const error = await caught(
      resolveSettings({ flags: {}, env: { HOME: root, SMILE_PARTNER_ID: '1', SMILE_API_KEY_FILE: missing } }),
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain(missing);
    const empty = path.join(root, 'empty.txt');
    await fs.writeFile(empty, ' \n');
    const emptyError = await caught(
      resolveSettings({ flags: {}, env: { HOME: root, SMILE_PARTNER_ID: '1', SMILE_API_KEY_FILE: empty } }),
    );
    expect(emptyError).toBeInstanceOf(AuthError);
    expect(emptyError.message).toContain('empty');
  });

  it('no credentials at all: AuthError whose hint names every way forward', async () => {
    const home = await tempDir();
    const error = await caught(resolveSettings({ flags: {}, env: { HOME: home } }));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).exitCode).toBe(3);
    const hint = (error as AuthError).hint ?? '';
    expect(hint).toContain('smile profile add NAME --partner-id ID --env sandbox');
    expect(hint).toContain('SMILE_PARTNER_ID');
    expect(hint).toContain('SMILE_API_KEY');
    expect(hint).toContain('--emulator');
    expect(await fs.readdir(home)).toEqual([]);
  });

  it('only one of partner id and key: AuthError naming the missing one', async () => {
    const home = await tempDir();
    const noKey = await caught(resolveSettings({ flags: {}, env: { HOME: home, SMILE_PARTNER_ID: '085' } }));
    expect((noKey as AuthError).code).toBe('no_api_key');
    expect((noKey as AuthError).hint).toContain('SMILE_API_KEY');
    const noPartner = await caught(resolveSettings({ flags: {}, env: { HOME: home, SMILE_API_KEY: MARKER } }));
    expect((noPartner as AuthError).code).toBe('no_partner_id');
    expect((noPartner as AuthError).hint).toContain('SMILE_PARTNER_ID');
    expect(leaks(noPartner, MARKER)).toBe(false);
  });

  it('partial mode with nothing configured reports both missing', async () => {
    const home = await tempDir();
    const settings = await resolveSettings({ flags: {}, env: { HOME: home }, partial: true });
    expect(settings).toMatchObject({ missing: ['partnerId', 'apiKey'], environment: 'sandbox', baseUrl: SANDBOX });
    expect(settings.profileName).toBeUndefined();
  });

  describe('URL rules', () => {
    const env = {
      SMILE_PARTNER_ID: '085',
      SMILE_API_KEY: MARKER,
      SMILE_CONFIG_DIR: path.join(os.tmpdir(), 'smile-resolve-never-created'),
    };

    it('allows http for loopback hosts in sandbox', async () => {
      for (const url of ['http://127.0.0.1:4010/v1/', 'http://localhost:4010/v1', 'http://[::1]:4010/v1']) {
        const settings = await resolveSettings({ flags: { baseUrl: url }, env });
        expect(settings.baseUrl).toBe(url.replace(/\/$/, ''));
      }
    });

    it('refuses http in production, even on loopback', async () => {
      const error = await caught(
        resolveSettings({ flags: { baseUrl: 'http://127.0.0.1:4010/v1', env: 'production' }, env }),
      );
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect(error.message).toMatch(/--base-url .*production/);
      expect(leaks(error, MARKER)).toBe(false);
    });

    it('refuses http for a non-loopback host, naming the variable', async () => {
      const error = await caught(
        resolveSettings({ flags: {}, env: { ...env, SMILE_BASE_URL: 'http://testapi.smileidentity.com/v1' } }),
      );
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toContain('SMILE_BASE_URL');
      expect(leaks(error, MARKER)).toBe(false);
    });

    it('callback URLs: https required in production, http allowed in sandbox', async () => {
      const sandbox = await resolveSettings({ flags: { callbackUrl: 'http://dev.example.com/cb' }, env });
      expect(sandbox.callbackUrl).toBe('http://dev.example.com/cb');
      expect(sandbox.sources.callbackUrl).toBe('flag');
      const error = await caught(
        resolveSettings({
          flags: { env: 'production' },
          env: { ...env, SMILE_CALLBACK_URL: 'http://dev.example.com/cb' },
        }),
      );
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toContain('SMILE_CALLBACK_URL');
      const ok = await resolveSettings({
        flags: { env: 'production', callbackUrl: 'https://hooks.example.com/cb' },
        env,
      });
      expect(ok.callbackUrl).toBe('https://hooks.example.com/cb');
    });

    it('a bad --env or SMILE_ENV is a UsageError', async () => {
      const flag = await caught(resolveSettings({ flags: { env: 'staging' }, env }));
      expect(flag).toBeInstanceOf(UsageError);
      expect(flag.message).toContain('--env');
      const variable = await caught(resolveSettings({ flags: {}, env: { ...env, SMILE_ENV: 'prod' } }));
      expect(variable).toBeInstanceOf(UsageError);
      expect(variable.message).toContain('SMILE_ENV');
      await expect(fs.stat(env.SMILE_CONFIG_DIR)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('a malformed key in SMILE_API_KEY or SMILE_API_KEY_FILE never appears in the error', async () => {
      const root = await tempDir();
      const multi = path.join(root, 'multi.txt');
      await fs.writeFile(multi, `${MARKER}\n${MARKER}\n`);
      const errors = [
        await caught(resolveSettings({ flags: {}, env: { ...env, SMILE_API_KEY: `${MARKER} ${MARKER}` } })),
        await caught(
          resolveSettings({ flags: {}, env: { HOME: root, SMILE_PARTNER_ID: '1', SMILE_API_KEY_FILE: multi } }),
        ),
      ];
      for (const error of errors) {
        expect(error).toBeInstanceOf(AuthError);
        expect(leaks(error, MARKER)).toBe(false);
      }
    });
  });
});
