/**
 * The credential store behind its interface (src/config/credentials.ts): the keyring path with a
 * real in-memory SecretBackend (the OS keyring itself is exercised in
 * test/e2e/keyring.test.ts where a Secret Service can be started), and the file path.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  credentialStorePolicy,
  getApiKey,
  keyringAccount,
  openCredentialStore,
  setApiKey,
} from '../../../src/config/credentials.js';
import type { SecretBackend } from '../../../src/config/credentials.js';
import { AuthError, UsageError } from '../../../src/errors.js';
import { caught, tempDir } from './helpers.js';

/** A real secret store in memory; `refuse` makes the next writes fail, `corrupt` stores something else. */
class MemoryBackend implements SecretBackend {
  readonly name = 'memory';
  readonly entries = new Map<string, string>();
  refuse: string | undefined;
  locked = false;
  corrupt = false;
  async get(account: string): Promise<string | undefined> {
    if (this.locked) throw new Error('the collection is locked');
    return this.entries.get(account);
  }
  async set(account: string, secret: string): Promise<void> {
    if (this.refuse !== undefined) throw new Error(this.refuse);
    this.entries.set(account, this.corrupt ? `${secret}-mangled` : secret);
  }
  async delete(account: string): Promise<boolean> {
    if (this.locked) throw new Error('the collection is locked');
    return this.entries.delete(account);
  }
}

const LINUX_WITH_BUS = {
  platform: 'linux' as const,
  processEnv: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1/bus' },
};
const KEYRING_ENV = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1/bus' };

async function keyringStore(dir: string, backend: MemoryBackend) {
  return openCredentialStore(dir, KEYRING_ENV, { ...LINUX_WITH_BUS, openKeyring: async () => ({ backend }) });
}

describe('credential store choice (SMILE_CREDENTIAL_STORE, SMILE_CONFIG_DIR, D-Bus)', () => {
  it('uses the file when asked, when SMILE_CONFIG_DIR is set, or without a D-Bus session on Linux', () => {
    expect(credentialStorePolicy({ SMILE_CREDENTIAL_STORE: 'file', ...KEYRING_ENV }, 'darwin')).toEqual({
      use: 'file',
      reason: 'SMILE_CREDENTIAL_STORE=file',
    });
    expect(credentialStorePolicy({ SMILE_CONFIG_DIR: '/tmp/x' }, 'darwin')).toMatchObject({
      use: 'file',
      reason: expect.stringContaining('SMILE_CONFIG_DIR') as unknown,
    });
    expect(credentialStorePolicy({}, 'linux', {})).toMatchObject({
      use: 'file',
      reason: expect.stringContaining('DBUS_SESSION_BUS_ADDRESS is not set') as unknown,
    });
    // An in-process run handed another environment never reaches the process's own session bus.
    expect(credentialStorePolicy({}, 'linux', LINUX_WITH_BUS.processEnv)).toMatchObject({ use: 'file' });
    expect(credentialStorePolicy(KEYRING_ENV, 'linux', LINUX_WITH_BUS.processEnv)).toEqual({
      use: 'keyring',
      required: false,
    });
    expect(credentialStorePolicy({}, 'darwin', {})).toEqual({ use: 'keyring', required: false });
  });

  it('SMILE_CREDENTIAL_STORE=keyring requires the keyring, even with SMILE_CONFIG_DIR; a bad value is a usage error', async () => {
    expect(
      credentialStorePolicy(
        { SMILE_CREDENTIAL_STORE: 'keyring', SMILE_CONFIG_DIR: '/x', ...KEYRING_ENV },
        'linux',
        KEYRING_ENV,
      ),
    ).toEqual({ use: 'keyring', required: true });
    expect(credentialStorePolicy({ SMILE_CREDENTIAL_STORE: 'keyring' }, 'linux', {})).toMatchObject({ use: 'none' });
    const dir = await tempDir();
    const refused = await caught(
      openCredentialStore(
        dir,
        { SMILE_CREDENTIAL_STORE: 'keyring', ...KEYRING_ENV },
        {
          ...LINUX_WITH_BUS,
          openKeyring: async () => ({ reason: 'no Secret Service on the bus' }),
        },
      ),
    );
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused.message).toContain('no Secret Service on the bus');
    expect(await caught(openCredentialStore(dir, { SMILE_CREDENTIAL_STORE: 'vault' }))).toBeInstanceOf(UsageError);
  });

  it('auto falls back to the file, saying why, when the keyring does not answer', async () => {
    const dir = await tempDir();
    const store = await openCredentialStore(dir, KEYRING_ENV, {
      ...LINUX_WITH_BUS,
      openKeyring: async () => ({ reason: 'the Secret Service did not answer: timed out' }),
    });
    expect(store).toMatchObject({ store: 'file', fileReason: expect.stringContaining('timed out') as unknown });
    expect(await store.set('p', 'file-key-123456')).toEqual({
      store: 'file',
      location: `${path.join(dir, 'credentials.json')} (mode 0600)`,
    });
    expect(await getApiKey(dir, 'p')).toBe('file-key-123456');
  });
});

describe('keyring store (in-memory backend)', () => {
  it('stores, reads back and removes a key in the keyring; nothing in the file', async () => {
    const dir = await tempDir();
    const backend = new MemoryBackend();
    const store = await keyringStore(dir, backend);
    expect(store.store).toBe('keyring');
    expect(await store.set('prod', 'ring-key-123456')).toEqual({
      store: 'keyring',
      location: 'the OS keyring (memory)',
    });
    expect(backend.entries.get(keyringAccount(dir, 'prod'))).toBe('ring-key-123456');
    await expect(fs.stat(path.join(dir, 'credentials.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.get('prod')).toBe('ring-key-123456');
    expect(await store.remove('prod')).toBe(true);
    expect(await store.get('prod')).toBeUndefined();
    expect(backend.entries.size).toBe(0);
  });

  it('migrates file keys: each written, read back, then removed from the file (the file goes when empty)', async () => {
    const dir = await tempDir();
    await setApiKey(dir, 'a', 'key-a-12345678');
    await setApiKey(dir, 'b', 'key-b-12345678');
    const backend = new MemoryBackend();
    const store = await keyringStore(dir, backend);
    expect(store.migrated).toEqual(['a', 'b']);
    expect(store.notMigrated).toEqual([]);
    expect(backend.entries.get(keyringAccount(dir, 'a'))).toBe('key-a-12345678');
    await expect(fs.stat(path.join(dir, 'credentials.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.get('b')).toBe('key-b-12345678');
    // Opening again finds nothing left to move.
    expect((await keyringStore(dir, backend)).migrated).toEqual([]);
  });

  it('never loses a key: a key the keyring refuses or gives back wrong stays in the file and is still read', async () => {
    const dir = await tempDir();
    await setApiKey(dir, 'a', 'key-a-12345678');
    const refusing = new MemoryBackend();
    refusing.refuse = 'write refused by the keyring';
    const first = await keyringStore(dir, refusing);
    expect(first.migrated).toEqual([]);
    expect(first.notMigrated).toEqual([{ profile: 'a', reason: 'write refused by the keyring' }]);
    expect(await getApiKey(dir, 'a')).toBe('key-a-12345678');
    expect(await first.get('a')).toBe('key-a-12345678');

    const mangling = new MemoryBackend();
    mangling.corrupt = true;
    const second = await keyringStore(dir, mangling);
    expect(second.notMigrated).toEqual([{ profile: 'a', reason: 'the keyring gave back a different value' }]);
    expect(await getApiKey(dir, 'a')).toBe('key-a-12345678');
  });

  it('a key the keyring refuses on set goes to the file, visibly, and no stale keyring entry shadows it', async () => {
    const dir = await tempDir();
    const backend = new MemoryBackend();
    const store = await keyringStore(dir, backend);
    await store.set('p', 'old-key-12345678');
    backend.corrupt = true;
    const stored = await store.set('p', 'new-key-12345678');
    expect(stored).toMatchObject({
      store: 'file',
      fallbackReason: 'the OS keyring (memory) refused it: the keyring gave back a different value',
    });
    expect(backend.entries.has(keyringAccount(dir, 'p'))).toBe(false);
    expect(await store.get('p')).toBe('new-key-12345678');
  });

  it('a locked keyring: reading falls back to a key in the file, else an AuthError naming the keyring; remove refuses', async () => {
    const dir = await tempDir();
    const backend = new MemoryBackend();
    const store = await keyringStore(dir, backend);
    await store.set('ring', 'ring-key-123456');
    backend.locked = true;
    const error = await caught(store.get('ring'));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('the collection is locked');
    expect(error.message).not.toContain('ring-key-123456');
    await setApiKey(dir, 'filed', 'filed-key-123456');
    expect(await store.get('filed')).toBe('filed-key-123456');
    expect(await caught(store.remove('ring'))).toBeInstanceOf(AuthError);
    backend.locked = false;
    expect(await store.get('ring')).toBe('ring-key-123456');
  });

  it('two config directories never share a keyring entry', async () => {
    const [one, two] = [await tempDir(), await tempDir()];
    const backend = new MemoryBackend();
    await (await keyringStore(one, backend)).set('p', 'key-one-1234567');
    await (await keyringStore(two, backend)).set('p', 'key-two-1234567');
    expect(await (await keyringStore(one, backend)).get('p')).toBe('key-one-1234567');
    expect(await (await keyringStore(two, backend)).get('p')).toBe('key-two-1234567');
  });
});
