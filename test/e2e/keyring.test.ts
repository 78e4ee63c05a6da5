/**
 * The OS keyring for real: a Secret Service (gnome-keyring) on a private D-Bus session bus, with
 * an unencrypted (empty-password) login keyring in a temporary HOME, started by this test and
 * stopped after it; the packaged binary runs with that bus and no SMILE_CONFIG_DIR, so its
 * credential store is chosen as on a user's desktop. Without gnome-keyring-daemon or dbus-daemon
 * the tests skip and say why; SMILE_REQUIRE_KEYRING=1 (CI) makes that a failure.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { childEnv } from '../helpers/child-env.js';
import { until } from '../helpers/wait-for.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REQUIRED = process.env['SMILE_REQUIRE_KEYRING'] === '1';
const run = promisify(execFile);

function which(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

const missing = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon'].filter((command) => !which(command));
const unavailable =
  process.platform !== 'linux'
    ? 'not Linux (the test starts a Secret Service)'
    : missing.length > 0
      ? `${missing.join(', ')} not installed (apt-get install gnome-keyring dbus-daemon dbus-bin)`
      : undefined;
const skip = unavailable !== undefined && !REQUIRED;
if (skip) console.warn(`keyring: skipped, ${unavailable} (SMILE_REQUIRE_KEYRING=1 makes this a failure)`);

let home: string;
let bus: string;
const daemons: ChildProcess[] = [];

function daemon(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(child);
  return child;
}

async function secretServiceOwned(env: NodeJS.ProcessEnv): Promise<boolean> {
  const { stdout } = await run(
    'dbus-send',
    [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner',
      'string:org.freedesktop.secrets',
    ],
    { env },
  );
  return stdout.includes('boolean true');
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function smile(args: string[], extra: NodeJS.ProcessEnv = {}, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, ['bin/smile.js', ...args], {
    cwd: ROOT,
    env: childEnv(home, { DBUS_SESSION_BUS_ADDRESS: bus, XDG_RUNTIME_DIR: join(home, 'run'), ...extra }),
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const json = <T = Record<string, unknown>>(result: Run): T => JSON.parse(result.stdout) as T;

beforeAll(async () => {
  if (skip) return;
  if (unavailable) throw new Error(`${unavailable} (SMILE_REQUIRE_KEYRING=1: the keyring test may not skip)`);
  home = await mkdtemp(join(tmpdir(), 'smile-keyring-'));
  await mkdir(join(home, 'run'), { mode: 0o700 });
  const keyrings = join(home, '.local', 'share', 'keyrings');
  await mkdir(keyrings, { recursive: true, mode: 0o700 });
  // An empty-password login keyring is kept unencrypted and is unlocked from the start.
  await writeFile(join(keyrings, 'default'), 'login');
  await writeFile(
    join(keyrings, 'login.keyring'),
    '[keyring]\ndisplay-name=login\nctime=0\nmtime=0\nlock-on-idle=false\nlock-after=false\n',
    { mode: 0o600 },
  );
  const base = { PATH: process.env['PATH'], HOME: home, XDG_RUNTIME_DIR: join(home, 'run') };
  const dbus = daemon('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1'], base);
  bus = await new Promise<string>((done, fail) => {
    let text = '';
    dbus.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) done(text.trim());
    });
    dbus.on('exit', (code) => fail(new Error(`dbus-daemon exited ${code}`)));
  });
  const env = { ...base, DBUS_SESSION_BUS_ADDRESS: bus };
  daemon('gnome-keyring-daemon', ['--start', '--foreground', '--components=secrets'], env);
  await until(async () => ((await secretServiceOwned(env)) ? true : undefined), 'the Secret Service on the bus');
});

afterAll(async () => {
  for (const child of daemons.reverse()) child.kill('SIGTERM');
  if (home) await rm(home, { recursive: true, force: true });
});

describe.skipIf(skip)('API keys in the OS keyring (a real Secret Service)', () => {
  const KEY_A = 'ring-key-a-7f3a9c1e';
  const credentialsFile = () => join(home, '.config', 'smile', 'credentials.json');

  it('moves a key from credentials.json into the keyring, then removes it from the file', async () => {
    const filed = await smile(
      ['profile', 'add', 'old', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', '-', '--json'],
      { SMILE_CREDENTIAL_STORE: 'file' },
      KEY_A,
    );
    expect(filed.code, filed.stderr).toBe(0);
    expect(json(filed)).toMatchObject({ key_store: 'file', key_store_reason: 'SMILE_CREDENTIAL_STORE=file' });
    expect(await readFile(credentialsFile(), 'utf8')).toContain(KEY_A);

    const listed = await smile(['profile', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(json(listed)).toMatchObject({
      key_store: 'keyring',
      key_location: 'the OS keyring (Secret Service)',
      keys_migrated: ['old'],
      profiles: [{ name: 'old', api_key: 'ring…' }],
    });
    expect(existsSync(credentialsFile())).toBe(false);
    // Read back from the keyring alone.
    expect(json(await smile(['profile', 'show', 'old', '--json']))).toMatchObject({
      api_key: 'ring…',
      sources: { api_key: 'credentials' },
      key_store: 'keyring',
      keys_migrated: [],
    });
  });

  it('profile add stores in the keyring and says so; doctor signs a round trip with it and names the store', async () => {
    const emulator = await startEmulator({ port: 0 });
    try {
      const args = `profile add emu --partner-id ${emulator.partnerId} --env sandbox --base-url ${emulator.baseUrl}`;
      const added = await smile([...args.split(' '), '--api-key-file', '-'], {}, emulator.apiKey);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toContain('stored in the OS keyring (Secret Service)');
      expect(existsSync(credentialsFile())).toBe(false);

      const doctor = await smile(['doctor', '--profile', 'emu', '--json']);
      const report = json<{ ok: boolean; checks: { name: string; status: string; detail: string }[] }>(doctor);
      expect(report.checks.find((item) => item.name === 'credentials')?.detail).toBe(
        'API key of profile "emu" from the OS keyring (Secret Service)',
      );
      expect(report.checks.find((item) => item.name === 'round_trip')?.status).toBe('pass');
      expect(doctor.code, doctor.stderr).toBe(0);
      expect(doctor.stdout + doctor.stderr).not.toContain(emulator.apiKey);

      const removed = await smile(['profile', 'remove', 'emu', '--json']);
      expect(json(removed)).toMatchObject({ removed: 'emu', key_removed: true });
      const again = await smile(
        ['profile', 'add', 'emu', '--partner-id', '1', '--env', 'sandbox', '--api-key-file', '-', '--json'],
        {},
        'other-key-123456',
      );
      // A fresh profile of the same name starts from the new key only (the old entry was deleted).
      expect(json(again)).toMatchObject({ key_store: 'keyring', api_key: 'othe…' });
    } finally {
      await emulator.close();
    }
  });
});
