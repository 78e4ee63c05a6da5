/** Production refuses plain http, --sandbox-result and non-https callback URLs — before anything is sent. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { MARKED_KEY } from './helpers.js';

const SELFIE = resolve('fixtures/selfies/demo.jpg');
const HAS_BULK = existsSync(resolve('src/commands/bulk.ts'));
let dir: string;
let server: Server;
let hits = 0;
let httpBase: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-production-'));
  // Counts requests: a refusal must come before any request is made.
  server = createServer((req, res) => {
    hits += 1;
    req.resume();
    res.statusCode = 500;
    res.end('{}');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  httpBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const production = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  SMILE_ENV: 'production',
  SMILE_PARTNER_ID: '085',
  SMILE_API_KEY: MARKED_KEY,
  SMILE_CONFIG_DIR: join(dir, 'none'),
  ...extra,
});
// An https URL nothing answers: a refusal must not even try it.
const HTTPS_NOWHERE = 'https://127.0.0.1:9/v1';

describe('production refuses', () => {
  it('plain http base URLs, even on loopback (flag, environment, profile)', async () => {
    hits = 0;
    const flag = await runCli(['register', '--base-url', httpBase, '--user-id', 'u', '--selfie', SELFIE, '--json'], {
      env: production(),
    });
    expect(flag.code).toBe(2);
    expect(flag.json()).toMatchObject({ ok: false, error: { code: 'insecure_url' } });
    expect(
      (await runCli(['status', '--user-id', 'u', '--job-id', 'j'], { env: production({ SMILE_BASE_URL: httpBase }) }))
        .code,
    ).toBe(2);
    const profile = await runCli(
      [
        'profile',
        'add',
        'prod',
        '--partner-id',
        '085',
        '--env',
        'production',
        '--base-url',
        httpBase,
        '--api-key-file',
        '-',
      ],
      { env: { SMILE_CONFIG_DIR: join(dir, 'cfg') }, stdin: MARKED_KEY },
    );
    expect(profile.code).toBe(2);
    const doctor = await runCli(['doctor', '--json'], { env: production({ SMILE_BASE_URL: httpBase }) });
    expect(doctor.code).toBe(3);
    expect(doctor.json<{ checks: { name: string; status: string; detail: string }[] }>().checks[0]).toMatchObject({
      name: 'settings',
      status: 'fail',
      detail: expect.stringMatching(/plain http/),
    });
    expect(hits).toBe(0);
  });

  it('plain http base URLs for hosts that are not loopback, in sandbox too', async () => {
    const run = await runCli(
      ['register', '--base-url', 'http://api.example.com/v1', '--user-id', 'u', '--selfie', SELFIE],
      { env: production({ SMILE_ENV: 'sandbox' }) },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/plain http/);
  });

  it('--sandbox-result', async () => {
    const run = await runCli(
      [
        'register',
        '--base-url',
        HTTPS_NOWHERE,
        '--user-id',
        'u',
        '--selfie',
        SELFIE,
        '--sandbox-result',
        'approve',
        '--json',
      ],
      { env: production() },
    );
    expect(run.code).toBe(2);
    expect(run.json<{ error: { message: string } }>().error.message).toMatch(
      /--sandbox-result is refused in production/,
    );
  });

  it('--emulator together with production', async () => {
    expect(
      (await runCli(['register', '--emulator', '--env', 'production', '--user-id', 'u', '--selfie', SELFIE])).code,
    ).toBe(2);
  });

  it('http callback URLs from the flag, the environment and a profile', async () => {
    const flag = await runCli(
      [
        'register',
        '--base-url',
        HTTPS_NOWHERE,
        '--user-id',
        'u',
        '--selfie',
        SELFIE,
        '--callback-url',
        'http://hooks.example.com/smile',
        '--json',
      ],
      { env: production() },
    );
    expect(flag.code).toBe(2);
    expect(flag.json()).toMatchObject({ error: { code: 'insecure_callback_url' } });
    const fromEnv = await runCli(['register', '--base-url', HTTPS_NOWHERE, '--user-id', 'u', '--selfie', SELFIE], {
      env: production({ SMILE_CALLBACK_URL: 'http://hooks.example.com/smile' }),
    });
    expect(fromEnv.code).toBe(2);
    const profile = await runCli(
      [
        'profile',
        'add',
        'prod',
        '--partner-id',
        '085',
        '--env',
        'production',
        '--callback-url',
        'http://hooks.example.com/smile',
        '--api-key-file',
        '-',
      ],
      { env: { SMILE_CONFIG_DIR: join(dir, 'cfg2') }, stdin: MARKED_KEY },
    );
    expect(profile.code).toBe(2);
    // The same URL is fine in sandbox (development endpoints).
    const sandbox = await runCli(
      [
        'profile',
        'add',
        'dev',
        '--partner-id',
        '085',
        '--env',
        'sandbox',
        '--callback-url',
        'http://hooks.example.com/smile',
        '--api-key-file',
        '-',
      ],
      { env: { SMILE_CONFIG_DIR: join(dir, 'cfg3') }, stdin: MARKED_KEY },
    );
    expect(sandbox.code).toBe(0);
  });

  it.skipIf(!HAS_BULK)('bulk rows with sandbox_result or an http callback_url in production', async () => {
    const csv = join(dir, 'prod.csv');
    await writeFile(
      csv,
      `user_id,selfie,sandbox_result,callback_url\nu-1,${SELFIE},approve,\nu-2,${SELFIE},,http://hooks.example.com/smile\n`,
    );
    const run = await runCli(['bulk', csv, '--dry-run', '--base-url', HTTPS_NOWHERE, '--yes', '--json'], {
      env: production(),
    });
    expect(run.code).not.toBe(0);
    const text = run.stdout + run.stderr;
    expect(text).toMatch(/sandbox_result is refused in production/);
    expect(text).toMatch(/callback_url must use https in production/);
  });
});
