/**
 * Issue 15, items 4 and 5 through the real CLI entry (in-process, real config files in a temp dir,
 * the emulator over loopback): the one context line of a run in every environment (not with
 * --quiet/--json), a production profile that never becomes current by itself, `profile set`, and
 * `profile show --show-key` behind a terminal confirmation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contextLine } from '../../src/connect.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';

let emulator: RunningEmulator;
let dir: string;
const KEY = 'prod-key-7f3a9c1e5b2d';

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 50 });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-context-'));
  return () => rm(dir, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({ SMILE_CONFIG_DIR: join(dir, 'config'), ...extra });
const contextLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('▸'));

async function addEmulatorProfile(name = 'emu', extra: string[] = []) {
  const args = `profile add ${name} --partner-id ${emulator.partnerId} --env sandbox --base-url ${emulator.baseUrl}`;
  const added = await runCli([...args.split(' '), '--api-key-file', '-', ...extra], {
    env: env(),
    stdin: emulator.apiKey,
  });
  expect(added.code, added.stderr).toBe(0);
  return added;
}

const status = ['status', '--user-id', 'nobody', '--job-id', 'job-none'];

describe('the context line', () => {
  it('names environment, partner, profile and host; the default hosts bare', () => {
    const target = { partnerId: '085', profileName: 'prod', baseUrlSource: 'default' as const };
    expect(contextLine({ ...target, environment: 'production', baseUrl: 'https://api.smileidentity.com/v1' })).toBe(
      '▸ production · partner 085 · profile prod · api.smileidentity.com',
    );
    expect(
      contextLine({
        ...target,
        environment: 'sandbox',
        profileName: undefined,
        baseUrl: 'https://testapi.smileidentity.com/v1',
      }),
    ).toBe('▸ sandbox · partner 085 · no profile (environment variables) · testapi.smileidentity.com');
  });

  it('sandbox with a profile: one line, its custom base URL called so; none with --quiet or --json', async () => {
    await addEmulatorProfile();
    const text = await runCli(status, { env: env() });
    expect(contextLines(text.stderr)).toEqual([
      `▸ sandbox · partner ${emulator.partnerId} · profile emu · custom base URL ${emulator.baseUrl} (from the profile)`,
    ]);
    const quiet = await runCli([...status, '--quiet'], { env: env() });
    expect(quiet.code).toBe(text.code);
    expect(contextLines(quiet.stderr)).toEqual([]);
    const json = await runCli([...status, '--json'], { env: env() });
    expect(json.code).toBe(text.code);
    expect(contextLines(json.stderr)).toEqual([]);
    expect(() => json.json()).not.toThrow();
  });

  it('environment-variable credentials: no profile, the base URL from SMILE_BASE_URL', async () => {
    const run = await runCli(status, {
      env: env({
        SMILE_PARTNER_ID: emulator.partnerId,
        SMILE_API_KEY: emulator.apiKey,
        SMILE_BASE_URL: emulator.baseUrl,
      }),
    });
    expect(contextLines(run.stderr)).toEqual([
      `▸ sandbox · partner ${emulator.partnerId} · no profile (environment variables) · custom base URL ${emulator.baseUrl} (from SMILE_BASE_URL)`,
    ]);
  });

  it('production: the one line replaces the old banner (never two); not with --json', async () => {
    const production = env({
      SMILE_ENV: 'production',
      SMILE_PARTNER_ID: '085',
      SMILE_API_KEY: KEY,
      SMILE_BASE_URL: 'https://127.0.0.1:9/v1',
    });
    const run = await runCli(status, { env: production });
    expect(contextLines(run.stderr)).toEqual([
      '▸ production · partner 085 · no profile (environment variables) · custom base URL https://127.0.0.1:9/v1 (from SMILE_BASE_URL)',
    ]);
    const json = await runCli([...status, '--json'], { env: production });
    expect(contextLines(json.stderr)).toEqual([]);
    expect(run.stdout + run.stderr + json.stdout + json.stderr).not.toContain(KEY);
  });

  it('--emulator: says so; not with --json', async () => {
    const run = await runCli([...status, '--emulator'], { env: env() });
    expect(contextLines(run.stderr)).toHaveLength(1);
    expect(contextLines(run.stderr)[0]).toMatch(/^▸ emulator · http:\/\/127\.0\.0\.1:\d+\/v1 · partner /);
    const json = await runCli([...status, '--emulator', '--json'], { env: env() });
    expect(contextLines(json.stderr)).toEqual([]);
  });
});

describe('profile add --env production', () => {
  it('does not become current by itself, says so, and a run without --profile says how to name it', async () => {
    const added = await runCli(
      ['profile', 'add', 'prod', '--partner-id', '085', '--env', 'production', '--api-key-file', '-'],
      { env: env(), stdin: KEY },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('✓ profile prod added (not current)');
    expect(added.stdout).toContain('a production profile is used only when named');
    expect(added.stdout).not.toContain(KEY);
    const list = await runCli(['profile', 'list', '--json'], { env: env() });
    expect(list.json()).toMatchObject({ current_profile: null });

    const run = await runCli(status, { env: env() });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('No profile is in use');
    expect(run.stderr).toContain('--profile prod');

    // A sandbox profile added next becomes current; production stays unused until named.
    await addEmulatorProfile();
    expect((await runCli(['profile', 'list', '--json'], { env: env() })).json()).toMatchObject({
      current_profile: 'emu',
    });
    const addProd = 'profile add prod --partner-id 085 --env production --api-key-file -'.split(' ');
    const used = await runCli([...addProd, '--force', '--use', '--json'], { env: env(), stdin: KEY });
    expect(used.json()).toMatchObject({ current: true, current_reason: 'use' });
  });

  it('--no-use keeps a sandbox profile from becoming current', async () => {
    await addEmulatorProfile('first');
    const second = await addEmulatorProfile('second', ['--no-use', '--json']);
    expect(second.json()).toMatchObject({ current: false, current_reason: 'no-use' });
  });
});

describe('profile set', () => {
  it('changes the callback URL without the key, clears it with an empty value, and refuses what it cannot do', async () => {
    await addEmulatorProfile();
    const set = await runCli(['profile', 'set', 'emu', '--callback-url', 'https://cb.example.com/smile', '--json'], {
      env: env(),
    });
    expect(set.code, set.stderr).toBe(0);
    expect(set.json()).toMatchObject({
      name: 'emu',
      changed: ['callback_url'],
      callback_url: 'https://cb.example.com/smile',
      base_url: emulator.baseUrl,
      current: true,
    });
    const shown = await runCli(['profile', 'show', 'emu', '--json'], { env: env() });
    expect(shown.json()).toMatchObject({
      callback_url: 'https://cb.example.com/smile',
      api_key: `${emulator.apiKey.slice(0, 4)}…`,
    });
    // The key still signs: a real request with it goes through.
    const run = await runCli(status, { env: env() });
    expect(run.stderr).not.toMatch(/2205|not authori[sz]ed/i);

    const cleared = await runCli(['profile', 'set', 'emu', '--callback-url', ''], { env: env() });
    expect(cleared.stdout).toContain('✓ profile emu updated: callback_url');
    expect(cleared.stdout).toContain('callback (none)');
    const again = await runCli(['profile', 'set', 'emu', '--callback-url', '', '--json'], { env: env() });
    expect(again.json()).toMatchObject({ changed: [] });

    const nothing = await runCli(['profile', 'set', 'emu'], { env: env() });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('--callback-url');
    const environment = await runCli(['profile', 'set', 'emu', '--env', 'production', '--partner-id', '1'], {
      env: env(),
    });
    expect(environment.code).toBe(2);
    const unknown = await runCli(['profile', 'set', 'ghost', '--callback-url', 'https://x.example.com'], {
      env: env(),
    });
    expect(unknown.code).toBe(3);
    const badUrl = await runCli(['profile', 'set', 'emu', '--callback-url', 'not a url'], { env: env() });
    expect(badUrl.code).toBe(2);
  });
});

describe('profile show --show-key', () => {
  it('refuses without a terminal (exit 2, says why); on one, prints the key only after yes', async () => {
    await addEmulatorProfile();
    const piped = await runCli(['profile', 'show', '--show-key'], { env: env() });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('only after a confirmation on a terminal');
    expect(piped.stdout + piped.stderr).not.toContain(emulator.apiKey);

    const declined = await runCli(['profile', 'show', '--show-key'], { env: env(), isTTY: true, stdin: 'n\n' });
    expect(declined.code).toBe(0);
    expect(declined.stderr).toContain('Print the whole API key of profile emu on this terminal? [y/N]');
    expect(declined.stdout).not.toContain(emulator.apiKey);
    expect(declined.stdout).toContain(`${emulator.apiKey.slice(0, 4)}…`);

    const confirmed = await runCli(['profile', 'show', '--show-key'], { env: env(), isTTY: true, stdin: 'y\n' });
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain(`api key      ${emulator.apiKey}`);
    expect(confirmed.stderr).not.toContain(emulator.apiKey);
  });
});

describe('doctor', () => {
  it('prints the context line (not with --json) and names the key store, and why the file', async () => {
    await addEmulatorProfile();
    const text = await runCli(['doctor'], { env: env() });
    expect(text.code, text.stderr).toBe(0);
    expect(contextLines(text.stderr)).toEqual([
      `▸ sandbox · partner ${emulator.partnerId} · profile emu · custom base URL ${emulator.baseUrl} (from the profile)`,
    ]);
    const json = await runCli(['doctor', '--json'], { env: env() });
    expect(contextLines(json.stderr)).toEqual([]);
    const checks = json.json<{ checks: { name: string; detail: string }[] }>().checks;
    const detail = checks.find((item) => item.name === 'credentials')?.detail ?? '';
    expect(detail).toContain(`from ${join(dir, 'config', 'credentials.json')} (mode 0600)`);
    expect(detail).toContain('not the OS keyring: SMILE_CONFIG_DIR names a config directory of its own');
  });
});
