import { mkdtemp, rm } from 'node:fs/promises';
import { chmod } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { CLOCK_SKEW_LIMIT_MS, judgeClockSkew, judgeRoundTrip } from '../../../src/doctor/probes.js';
import { signedFields } from '../../../src/smile/sign.js';
import { runCli } from '../../helpers/run-cli.js';

interface Report {
  ok: boolean;
  checks: { name: string; ok: boolean; status: string; detail: string; fix?: string }[];
}

const KEY = 'doctor-test-key-0123456789abcdef';
let emulator: RunningEmulator;
let dir: string;

function envFor(em: { partnerId: string; baseUrl: string }, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SMILE_PARTNER_ID: em.partnerId,
    SMILE_API_KEY: KEY,
    SMILE_BASE_URL: em.baseUrl,
    SMILE_CONFIG_DIR: join(dir, 'none'),
    ...extra,
  };
}

async function doctor(env: NodeJS.ProcessEnv, argv: string[] = []) {
  const run = await runCli(['doctor', '--json', ...argv], { env });
  const report = run.json<Report>();
  const byName = Object.fromEntries(report.checks.map((item) => [item.name, item]));
  return { run, report, byName };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-doctor-'));
  emulator = await startEmulator({ port: 0, apiKey: KEY });
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('smile doctor against the emulator', () => {
  it('passes every check and says where each setting came from', async () => {
    const { run, report, byName } = await doctor(envFor(emulator));
    expect(run.code, run.stdout).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((item) => item.name)).toEqual([
      'profile',
      'environment',
      'partner_id',
      'credentials',
      'base_url',
      'dns',
      'tcp',
      'tls',
      'clock',
      'round_trip',
    ]);
    expect(byName['environment']?.detail).toContain('sandbox (from the default)');
    expect(byName['partner_id']?.detail).toBe('085 (from SMILE_PARTNER_ID)');
    expect(byName['credentials']?.detail).toBe('API key from SMILE_API_KEY');
    expect(byName['base_url']?.detail).toContain('(from SMILE_BASE_URL)');
    expect(byName['tls']?.status).toBe('skip');
    expect(byName['clock']?.status).toBe('pass');
    expect(byName['round_trip']).toMatchObject({ status: 'pass' });
    expect(byName['round_trip']?.detail).toContain('2303');
    expect(run.stdout + run.stderr).not.toContain(KEY);
  });

  it('prints one human line per check with ✓ and a closing verdict', async () => {
    const run = await runCli(['doctor'], { env: envFor(emulator) });
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('✓ '))).toHaveLength(9);
    expect(lines.some((line) => /^– tls/.test(line))).toBe(true);
    expect(lines.at(-1)).toBe('Ready: every check passed.');
  });

  it('works with --emulator and no account at all', async () => {
    const { run, report } = await doctor({ SMILE_CONFIG_DIR: join(dir, 'none') }, ['--emulator']);
    expect(run.code, run.stdout).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.find((item) => item.name === 'round_trip')?.status).toBe('pass');
  });

  it('fails the clock line (exit 3) when the server clock is 10 minutes off, though the signature is still accepted', async () => {
    const skewed = await startEmulator({ port: 0, apiKey: KEY, clockSkewMs: 10 * 60_000 });
    try {
      const { run, report, byName } = await doctor(envFor(skewed));
      expect(run.code).toBe(3);
      expect(report.ok).toBe(false);
      expect(byName['clock']).toMatchObject({ status: 'fail', ok: false });
      expect(byName['clock']?.detail).toMatch(/clock is 10 min behind the server's/);
      expect(byName['clock']?.fix).toMatch(/timedatectl/);
      expect(byName['round_trip']?.status).toBe('pass');
      const human = await runCli(['doctor'], { env: envFor(skewed) });
      expect(human.stdout).toMatch(/^✗ clock/m);
      expect(human.stdout).toMatch(/problem blocks use/);
    } finally {
      await skewed.close();
    }
  });

  it('says the signature was refused (2205) when the clock is far enough off for the server to refuse it', async () => {
    const skewed = await startEmulator({ port: 0, apiKey: KEY, clockSkewMs: -30 * 60_000 });
    try {
      const { run, byName } = await doctor(envFor(skewed));
      expect(run.code).toBe(3);
      expect(byName['clock']?.detail).toMatch(/ahead of the server's/);
      expect(byName['round_trip']).toMatchObject({ status: 'fail' });
      expect(byName['round_trip']?.detail).toMatch(/2205/);
    } finally {
      await skewed.close();
    }
  });

  it('fails the round trip (exit 3) with a wrong key', async () => {
    const { run, byName } = await doctor(envFor(emulator, { SMILE_API_KEY: 'a-wrong-key-for-partner-085' }));
    expect(run.code).toBe(3);
    expect(byName['clock']?.status).toBe('pass');
    expect(byName['round_trip']?.status).toBe('fail');
    expect(byName['round_trip']?.detail).toContain('2205');
    expect(byName['round_trip']?.fix).toMatch(/sandbox and production keys differ/);
    expect(run.stdout).not.toContain('a-wrong-key-for-partner-085');
  });

  it('fails the round trip when a 200 answer is not signed with our key (tampered)', async () => {
    const fake = createServer((_req, res) => {
      const { timestamp } = signedFields(KEY, '085');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          timestamp,
          signature: signedFields('another-key-entirely', '085').signature,
          job_complete: true,
          job_success: true,
          code: '2302',
          result: {},
        }),
      );
    });
    try {
      const { run, byName } = await doctor(envFor({ partnerId: '085', baseUrl: await listen(fake) }));
      expect(run.code).toBe(3);
      expect(byName['round_trip']?.detail).toMatch(/does not verify with your API key/);
    } finally {
      fake.close();
    }
  });

  it('fails the round trip on a redirect (the signed body is never re-sent) and on an old signed answer', async () => {
    let bodiesAtTarget = 0;
    const target = createServer((req, res) => {
      req.on('data', () => (bodiesAtTarget += 1));
      req.on('end', () => res.end('{}'));
    });
    const targetUrl = await listen(target);
    const redirecting = createServer((_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', `${targetUrl}/job_status`);
      res.end();
    });
    const replaying = createServer((_req, res) => {
      const old = signedFields(KEY, '085', new Date('2020-01-01T00:00:00.000Z'));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ...old, job_complete: true, job_success: true, code: '2302', result: {} }));
    });
    try {
      const redirected = await doctor(envFor({ partnerId: '085', baseUrl: await listen(redirecting) }));
      expect(redirected.run.code).toBe(3);
      expect(redirected.byName['round_trip']?.detail).toMatch(/redirected \(HTTP 307\)/);
      expect(bodiesAtTarget).toBe(0);
      const replayed = await doctor(envFor({ partnerId: '085', baseUrl: await listen(replaying) }));
      expect(replayed.run.code).toBe(3);
      expect(replayed.byName['round_trip']?.detail).toMatch(/valid signature made .* before this machine's clock/);
    } finally {
      target.close();
      redirecting.close();
      replaying.close();
    }
  });

  it('fails the round trip when the base URL answers something that is not Smile ID', async () => {
    const fake = createServer((_req, res) => {
      res.statusCode = 404;
      res.end('<html>not here</html>');
    });
    try {
      const { run, byName } = await doctor(envFor({ partnerId: '085', baseUrl: await listen(fake) }));
      expect(run.code).toBe(3);
      expect(byName['round_trip']?.detail).toMatch(/no JSON body/);
      expect(byName['round_trip']?.fix).toMatch(/v1 base/);
    } finally {
      fake.close();
    }
  });

  it('fails TCP and skips what depends on it when nothing listens', async () => {
    const fake = createServer();
    const baseUrl = await listen(fake);
    await new Promise((resolve) => fake.close(resolve));
    const { run, byName } = await doctor(envFor({ partnerId: '085', baseUrl }));
    expect(run.code).toBe(3);
    expect(byName['dns']?.status).toBe('pass');
    expect(byName['tcp']).toMatchObject({ status: 'fail' });
    expect(byName['tcp']?.detail).toMatch(/connection refused/);
    expect(byName['tcp']?.fix).toMatch(/emulator running/);
    expect(['tls', 'clock', 'round_trip'].map((name) => byName[name]?.status)).toEqual(['skip', 'skip', 'skip']);
  });

  it('fails TLS with the NODE_EXTRA_CA_CERTS fix when the certificate is not trusted', async () => {
    const secure = await startEmulator({ port: 0, apiKey: KEY, tls: true });
    try {
      const baseUrl = secure.baseUrl.replace('127.0.0.1', 'localhost');
      const { run, byName } = await doctor(envFor({ partnerId: '085', baseUrl }));
      expect(run.code).toBe(3);
      expect(byName['tls']?.status).toBe('fail');
      expect(byName['tls']?.fix).toMatch(/NODE_EXTRA_CA_CERTS/);
      expect(byName['round_trip']?.status).toBe('skip');
    } finally {
      await secure.close();
    }
  });

  it('fails the credentials line (exit 3) when there is no key, and skips the signed round trip', async () => {
    const { run, byName } = await doctor({
      SMILE_PARTNER_ID: '085',
      SMILE_BASE_URL: emulator.baseUrl,
      SMILE_CONFIG_DIR: join(dir, 'none'),
    });
    expect(run.code).toBe(3);
    expect(byName['credentials']).toMatchObject({ status: 'fail' });
    expect(byName['credentials']?.fix).toMatch(/smile profile add/);
    expect(byName['round_trip']?.status).toBe('skip');
  });

  it('reports an unusable setting as one failed line instead of crashing', async () => {
    const { run, report } = await doctor({ SMILE_ENV: 'staging', SMILE_CONFIG_DIR: join(dir, 'none') });
    expect(run.code).toBe(3);
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'settings', status: 'fail', detail: expect.stringContaining('SMILE_ENV') }),
    ]);
  });

  it('reads the key from a profile, says so, and warns (exit 0) when credentials.json is group-readable', async () => {
    const config = join(dir, 'profiles');
    const env = { SMILE_CONFIG_DIR: config };
    const added = await runCli(
      [
        'profile',
        'add',
        'local',
        '--partner-id',
        '085',
        '--env',
        'sandbox',
        '--base-url',
        emulator.baseUrl,
        '--api-key-file',
        '-',
      ],
      { env, stdin: `${KEY}\n` },
    );
    expect(added.code, added.stderr).toBe(0);
    const good = await doctor(env);
    expect(good.run.code).toBe(0);
    expect(good.byName['profile']?.detail).toBe('"local" (from the current profile (smile profile use))');
    expect(good.byName['environment']?.detail).toBe('sandbox (from the profile)');
    expect(good.byName['credentials']?.detail).toMatch(/from .*credentials\.json \(mode 0600\)/);
    const named = await doctor({ ...env, SMILE_PROFILE: 'local' });
    expect(named.byName['profile']?.detail).toBe('"local" (from SMILE_PROFILE)');
    await chmod(join(config, 'credentials.json'), 0o640);
    const loose = await doctor(env);
    expect(loose.run.code).toBe(0);
    expect(loose.byName['credentials']).toMatchObject({
      status: 'warn',
      ok: false,
      fix: `chmod 600 ${join(config, 'credentials.json')}`,
    });
    expect(loose.report.ok).toBe(true);
    expect(loose.run.stdout).not.toContain(KEY);
  });
});

describe('doctor verdicts', () => {
  it('judges clock skew against the limit with the Date header truncated to the second', () => {
    const now = Date.parse('2025-06-01T10:00:00.000Z');
    expect(judgeClockSkew(new Date(now).toUTCString(), now - 100, now + 100).status).toBe('pass');
    expect(judgeClockSkew(new Date(now + CLOCK_SKEW_LIMIT_MS - 2000).toUTCString(), now, now).status).toBe('pass');
    expect(judgeClockSkew(new Date(now + CLOCK_SKEW_LIMIT_MS + 2000).toUTCString(), now, now)).toMatchObject({
      status: 'fail',
    });
    expect(judgeClockSkew(null, now, now).status).toBe('warn');
  });

  it('judges the round trip: 2205 fails, other error bodies mean the signature was accepted, signatures must verify', () => {
    const fields = signedFields('k-123456', '085');
    expect(
      judgeRoundTrip(401, '{"code":"2205","error":"You are not authorized to do that"}', 'k-123456', '085', 'sandbox')
        .status,
    ).toBe('fail');
    expect(judgeRoundTrip(404, '{"code":"2303","error":"Job not found"}', 'k-123456', '085', 'sandbox').status).toBe(
      'pass',
    );
    expect(
      judgeRoundTrip(
        200,
        JSON.stringify({ ...fields, job_complete: false, code: '2314', result: 'No zip file received' }),
        'k-123456',
        '085',
        'sandbox',
      ).status,
    ).toBe('pass');
    expect(judgeRoundTrip(200, JSON.stringify({ job_complete: false }), 'k-123456', '085', 'sandbox').detail).toMatch(
      /without a signature/,
    );
    expect(
      judgeRoundTrip(404, JSON.stringify({ ...fields, code: '2303' }), 'other-key-99', '085', 'sandbox').status,
    ).toBe('fail');
    expect(judgeRoundTrip(403, 'Forbidden', 'k-123456', '085', 'sandbox').status).toBe('fail');
    expect(judgeRoundTrip(502, '{"message":"bad gateway"}', 'k-123456', '085', 'sandbox').status).toBe('fail');
  });
});
