import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { verifySignature } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';

const SELFIE = 'fixtures/selfies/demo.jpg';
const FRAMES = [
  'fixtures/selfies/liveness-1.jpg',
  'fixtures/selfies/liveness-2.jpg',
  'fixtures/selfies/liveness-3.jpg',
];
let emulator: RunningEmulator;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

function envFor(em: RunningEmulator, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SMILE_PARTNER_ID: em.partnerId,
    SMILE_API_KEY: em.apiKey,
    SMILE_BASE_URL: em.baseUrl,
    SMILE_CONFIG_DIR: '/nonexistent/smile-test-config',
    ...extra,
  };
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 150, humanReviewMs: 60_000 });
});
afterAll(async () => {
  await emulator.close();
});

describe('smile register (non-TTY, env credentials)', () => {
  it('registers a selfie end to end and prints the JSON document', async () => {
    const user = uid('u');
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--json'], { env: envFor(emulator) });
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json();
    expect(doc).toMatchObject({
      ok: true,
      outcome: 'approved',
      environment: 'sandbox',
      user_id: user,
      result_code: '0840',
      result_text: 'Enroll User',
      job_complete: true,
      job_success: true,
    });
    expect(doc['job_id']).toMatch(/^job-[0-9a-f-]{36}$/);
    expect(doc['smile_job_id']).toMatch(/^\d{10}$/);
    expect(doc['actions']).toMatchObject({
      Register_Selfie: 'Approved',
      Selfie_Provided: 'Passed',
      Liveness_Check: 'Not Applicable',
    });
    expect(doc['result']).toMatchObject({ ResultCode: '0840', SmileJobID: doc['smile_job_id'] });
    // What reached the emulator: one job, the selfie bytes as sent, one prep upload.
    const job = emulator.state.jobs.get(String(doc['job_id']))!;
    expect(job.userId).toBe(user);
    expect(job.zip?.entries.sort()).toEqual(['info.json', 'selfie.jpg']);
    expect(emulator.state.prepUploadCount(user, String(doc['job_id']))).toBe(1);
    // demo.jpg already is a JPEG as smile would send it: it travels byte for byte.
    expect(Buffer.from(emulator.state.selfieOf(String(doc['job_id']))!).equals(readFileSync(SELFIE))).toBe(true);
    // The job id is on stderr (resumable), stdout has only the document.
    expect(run.stderr).toContain(String(doc['job_id']));
  });

  it('sends every flag: liveness frames, params, callback, geo, job id', async () => {
    const received: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const callback = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;
    const user = uid('flags');
    const jobId = uid('job');
    try {
      const run = await runCli(
        [
          'register',
          '--user-id',
          user,
          '--selfie',
          SELFIE,
          '--liveness',
          ...FRAMES,
          '--job-id',
          jobId,
          '--param',
          'branch=nairobi',
          '--param',
          'desk=7',
          '--callback-url',
          callback,
          '--geo',
          '-1.2921,36.8219,1795',
          '--json',
        ],
        { env: envFor(emulator) },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.json()).toMatchObject({ outcome: 'approved', job_id: jobId, actions: { Liveness_Check: 'Passed' } });
      const job = emulator.state.jobs.get(jobId)!;
      expect(job.zip?.entries.sort()).toEqual([
        'info.json',
        'liveness-01.jpg',
        'liveness-02.jpg',
        'liveness-03.jpg',
        'selfie.jpg',
      ]);
      expect(job.zip?.livenessFrames).toBe(3);
      expect(job.partnerParams).toMatchObject({
        user_id: user,
        job_id: jobId,
        job_type: '4',
        branch: 'nairobi',
        desk: '7',
      });
      const prep = job.prepUploads[0]!;
      expect(prep).toMatchObject({
        callback_url: callback,
        metadata: [
          {
            name: 'geolocation',
            value: { latitude: -1.2921, longitude: 36.8219, accuracy: 'unknown', source: 'unknown' },
            timestamp: expect.any(String),
          },
        ],
        allow_new_enroll: false,
        source_sdk: 'rest_api',
      });
      expect(prep).not.toHaveProperty('signature');
      const info = job.zip?.info as { misc_information: Record<string, unknown>; images: unknown[] };
      expect(prep).not.toHaveProperty('geo_info');
      expect(info.misc_information).not.toHaveProperty('geo_info');
      expect(info.images).toHaveLength(4);
      // The emulator's callback arrives, signed with the key.
      await expect.poll(() => received.length, { timeout: 5000 }).toBeGreaterThan(0);
      const payload = received[0]!;
      expect(payload).toMatchObject({ ResultCode: '0840', PartnerParams: { user_id: user, job_id: jobId } });
      expect(verifySignature(emulator.apiKey, emulator.partnerId, payload['timestamp'], payload['signature'])).toBe(
        true,
      );
    } finally {
      server.close();
    }
  });

  it('sends a normalised JPEG for a non-JPEG selfie, byte for byte for a good JPEG', async () => {
    const user = uid('png');
    const run = await runCli(['register', '--user-id', user, '--selfie', 'fixtures/bad/alpha.png', '--json'], {
      env: envFor(emulator),
    });
    expect(run.code, run.stderr).toBe(0);
    const selfie = emulator.state.selfieOf(String(run.json()['job_id']))!;
    expect([...selfie.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it.each([
    ['reject', 'rejected', 6],
    ['provisional', 'provisional', 8],
    ['approve', 'approved', 0],
  ])('--sandbox-result %s → %s, exit %d', async (result, outcome, code) => {
    const run = await runCli(
      ['register', '--user-id', uid('sr'), '--selfie', SELFIE, '--sandbox-result', result, '--json'],
      { env: envFor(emulator) },
    );
    expect(run.code, run.stderr).toBe(code);
    expect(run.json()).toMatchObject({ outcome });
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job.partnerParams['sandbox_result']).toBe({ approve: '0', reject: '1', provisional: '2' }[result]);
    if (outcome === 'provisional') expect(run.stderr).toMatch(/smile status --user-id \S+ --job-id \S+ --wait/);
  });

  it('--expect passes on a match and exits 7 on a mismatch', async () => {
    const ok = await runCli(
      [
        'register',
        '--user-id',
        uid('ex'),
        '--selfie',
        SELFIE,
        '--sandbox-result',
        'reject',
        '--expect',
        'rejected',
        '--json',
      ],
      { env: envFor(emulator) },
    );
    expect(ok.code).toBe(0);
    const bad = await runCli(
      [
        'register',
        '--user-id',
        uid('ex'),
        '--selfie',
        SELFIE,
        '--sandbox-result',
        'reject',
        '--expect',
        'approved',
        '--json',
      ],
      { env: envFor(emulator) },
    );
    expect(bad.code).toBe(7);
    expect(bad.json()).toMatchObject({ outcome: 'rejected', expected: 'approved' });
  });

  it('--no-wait submits and exits with outcome submitted', async () => {
    const user = uid('nw');
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--no-wait', '--json'], {
      env: envFor(emulator),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ ok: true, outcome: 'submitted', job_complete: false });
    expect(emulator.state.jobs.get(String(run.json()['job_id']))?.zip).not.toBeNull();
  });

  it('a pending job at --timeout exits 8 and names the resume command', async () => {
    const slow = await startEmulator({ port: 0, processingMs: 60_000 });
    try {
      // --timeout bounds submit + upload + wait together: leave room for the first two on a busy machine.
      const run = await runCli(['register', '--user-id', 'slow-1', '--selfie', SELFIE, '--timeout', '2s', '--json'], {
        env: envFor(slow),
      });
      expect(run.code).toBe(8);
      expect(run.json()).toMatchObject({ outcome: 'pending', job_complete: false });
      expect(run.stderr).toContain(`smile status --user-id slow-1 --job-id ${String(run.json()['job_id'])} --wait`);
    } finally {
      await slow.close();
    }
  });

  it('2209 for an enrolled user exits 6 and points at --allow-re-enroll, which then works', async () => {
    const user = uid('re');
    expect((await runCli(['register', '--user-id', user, '--selfie', SELFIE], { env: envFor(emulator) })).code).toBe(0);
    const again = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--json'], {
      env: envFor(emulator),
    });
    expect(again.code).toBe(6);
    expect(again.json()).toMatchObject({ ok: false, error: { code: '2209' } });
    expect(String((again.json()['error'] as Record<string, unknown>)['hint'])).toContain('--allow-re-enroll');
    const replaced = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--allow-re-enroll', '--json'], {
      env: envFor(emulator),
    });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(emulator.state.jobs.get(String(replaced.json()['job_id']))?.prepUploads[0]).toMatchObject({
      allow_new_enroll: true,
    });
    expect(emulator.state.users.get(user)?.enrollments).toBe(2);
  });

  it('a reused --job-id is refused with 2215 (exit 6) and nothing new is created', async () => {
    const user = uid('dup');
    const jobId = uid('job');
    expect(
      (await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--job-id', jobId], { env: envFor(emulator) }))
        .code,
    ).toBe(0);
    const again = await runCli(
      ['register', '--user-id', user, '--selfie', SELFIE, '--job-id', jobId, '--allow-re-enroll'],
      { env: envFor(emulator) },
    );
    expect(again.code).toBe(6);
    expect(again.stderr).toContain('2215');
    expect(again.stderr).toContain('smile status');
  });

  it('--use-enrolled-image replaces the selfie on file with the new --selfie', async () => {
    const user = uid('uei');
    expect((await runCli(['register', '--user-id', user, '--selfie', SELFIE], { env: envFor(emulator) })).code).toBe(0);
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--use-enrolled-image', '--json'], {
      env: envFor(emulator),
    });
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job).toMatchObject({ useEnrolledImage: true, allowNewEnroll: true });
    expect(job.zip?.entries.sort()).toEqual(['info.json', 'selfie.jpg']);
  });

  it('a selfie that fails its checks exits 4 and sends nothing', async () => {
    const before = emulator.state.requests.length;
    const run = await runCli(
      ['register', '--user-id', uid('bad'), '--selfie', 'fixtures/bad/text-renamed.jpg', '--json'],
      { env: envFor(emulator) },
    );
    expect(run.code).toBe(4);
    expect(run.json()).toMatchObject({ ok: false, error: { code: 'not_an_image' } });
    expect(emulator.state.requests.length).toBe(before);
  });

  it('a wrong API key exits 3 with the 2205 hint, and the key never shows', async () => {
    const key = 'KEY-MARKER-0123456789abcdef';
    const run = await runCli(['register', '--user-id', uid('auth'), '--selfie', SELFIE, '--json', '--debug'], {
      env: envFor(emulator, { SMILE_API_KEY: key }),
    });
    expect(run.code).toBe(3);
    expect(run.json()).toMatchObject({ ok: false, error: { code: '2205' } });
    expect(String((run.json()['error'] as Record<string, unknown>)['hint'])).toMatch(/clock/);
    expect(run.stdout + run.stderr).not.toContain(key);
  });

  it('--debug traces requests with the key and signatures redacted', async () => {
    const run = await runCli(['register', '--user-id', uid('dbg'), '--selfie', SELFIE, '--debug', '--json'], {
      env: envFor(emulator),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('→ POST');
    expect(run.stderr).toContain('/v1/upload');
    expect(run.stderr).toContain('<zip ');
    expect(run.stderr).toContain('[redacted]');
    expect(run.stderr).not.toContain(emulator.apiKey);
    expect(run.stderr).not.toMatch(/"signature":"[A-Za-z0-9+/]{20,}={0,2}"/);
  });

  it.each([
    [['register', '--selfie', SELFIE], /--user-id/],
    [['register', '--user-id', 'u'], /--selfie/],
    [['register', '--user-id', 'u', '--selfie', SELFIE, '--geo', '91,0'], /latitude/],
    [['register', '--user-id', 'u', '--selfie', SELFIE, '--geo', 'abc'], /LAT,LON/],
    [['register', '--user-id', 'u', '--selfie', SELFIE, '--param', 'novalue'], /key=value/],
    [['register', '--user-id', 'u', '--selfie', SELFIE, '--timeout', 'soon'], /duration/],
    [['register', '--user-id', 'u', '--selfie', SELFIE, '--sandbox-result', 'maybe'], /Allowed choices/],
    [['register', '--user-id', 'u', '--use-enrolled-image'], /--use-enrolled-image .*needs --selfie FILE/],
    [['register', '--user-id', 'u', '--selfie', SELFIE, '--bogus'], /unknown option/i],
    [['regster'], /register/],
    [['bulk', 'rows.csv', '--concurrency', 'abc'], /whole number/],
    [['emulator', '--port', '-5'], /whole number/],
  ])('usage errors exit 2: %j', async (argv, message) => {
    const run = await runCli([...argv, '--json'], { env: envFor(emulator) });
    expect(run.code).toBe(2);
    const doc = run.json();
    expect(doc['ok']).toBe(false);
    expect(String((doc['error'] as Record<string, unknown>)['message'])).toMatch(message);
  });

  it('refuses --sandbox-result and http callbacks in production before sending anything', async () => {
    const env = envFor(emulator, { SMILE_BASE_URL: 'https://127.0.0.1:9/v1', SMILE_ENV: 'production' });
    const sandboxResult = await runCli(
      ['register', '--user-id', 'p', '--selfie', SELFIE, '--sandbox-result', 'approve', '--json'],
      { env },
    );
    expect(sandboxResult.code).toBe(2);
    // With --json the refusal is the JSON document (the context line is not printed with --json).
    expect(sandboxResult.stdout).toContain('production');
    const callback = await runCli(
      ['register', '--user-id', 'p', '--selfie', SELFIE, '--callback-url', 'http://example.com/cb', '--json'],
      { env },
    );
    expect(callback.code).toBe(2);
    const http = await runCli(['register', '--user-id', 'p', '--selfie', SELFIE, '--json'], {
      env: { ...env, SMILE_BASE_URL: emulator.baseUrl },
    });
    expect(http.code).toBe(2);
  });

  it('no credentials at all exits 3 and names what to do', async () => {
    const run = await runCli(['register', '--user-id', 'u', '--selfie', SELFIE], {
      env: { SMILE_CONFIG_DIR: '/nonexistent/smile-test-config' },
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/smile profile add|SMILE_PARTNER_ID/);
  });

  it('a server that is down exits 5 after retries', async () => {
    const run = await runCli(['register', '--user-id', 'u', '--selfie', SELFIE, '--json'], {
      env: envFor(emulator, { SMILE_BASE_URL: 'http://127.0.0.1:9/v1' }),
    });
    expect(run.code).toBe(5);
    expect(run.json()).toMatchObject({ ok: false, error: { code: 'network' } });
  });

  it('--emulator registers with no account and no config', async () => {
    const run = await runCli(['register', '--emulator', '--user-id', 'demo-1', '--selfie', SELFIE, '--json'], {
      env: { SMILE_CONFIG_DIR: '/nonexistent/smile-test-config' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ outcome: 'approved', user_id: 'demo-1' });
  });
});

describe('smile register (TTY)', () => {
  it('prints the result card on a terminal', async () => {
    const run = await runCli(['register', '--user-id', uid('tty'), '--selfie', SELFIE], {
      env: envFor(emulator),
      isTTY: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Approved');
    expect(run.stdout).toContain('0840 Enroll User');
    expect(run.stdout).toMatch(/[╭╮╰╯]/);
  });

  it('with --no-input and a missing value fails with the flag to pass instead of prompting', async () => {
    const run = await runCli(['register', '--no-input', '--selfie', SELFIE], { env: envFor(emulator), isTTY: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--user-id');
  });

  it('keeps --json on a terminal to exactly one document', async () => {
    const run = await runCli(['register', '--user-id', uid('ttyj'), '--selfie', SELFIE, '--json'], {
      env: envFor(emulator),
      isTTY: true,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ outcome: 'approved' });
  });
});

describe('smile status', () => {
  it('prints once, waits, and adds history and image links', async () => {
    const user = uid('st');
    const submitted = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--no-wait', '--json'], {
      env: envFor(emulator),
    });
    const jobId = String(submitted.json()['job_id']);
    const waited = await runCli(['status', '--user-id', user, '--job-id', jobId, '--wait', '--json'], {
      env: envFor(emulator),
    });
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.json()).toMatchObject({ outcome: 'approved', job_id: jobId, user_id: user });
    const once = await runCli(
      ['status', '--user-id', user, '--job-id', jobId, '--history', '--image-links', '--json'],
      { env: envFor(emulator) },
    );
    expect(once.code).toBe(0);
    expect(once.json()['history']).toBeInstanceOf(Array);
    expect((once.json()['image_links'] as Record<string, string>)['selfie_image']).toMatch(/^http:\/\/127\.0\.0\.1/);
  });

  it('a job still pending exits 8 without --wait', async () => {
    const slow = await startEmulator({ port: 0, processingMs: 60_000 });
    try {
      const submitted = await runCli(['register', '--user-id', 'p-1', '--selfie', SELFIE, '--no-wait', '--json'], {
        env: envFor(slow),
      });
      const run = await runCli(
        ['status', '--user-id', 'p-1', '--job-id', String(submitted.json()['job_id']), '--json'],
        { env: envFor(slow) },
      );
      expect(run.code).toBe(8);
      expect(run.json()).toMatchObject({ outcome: 'pending' });
    } finally {
      await slow.close();
    }
  });

  it('a job_status answer with a bad signature is refused (exit 3), never shown as a result', async () => {
    const { createServer: create } = await import('node:http');
    const fake = create((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          signature: 'AAAA',
          job_complete: true,
          job_success: true,
          code: '2302',
          result: { ResultCode: '0810', Actions: {} },
        }),
      );
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
      const run = await runCli(['status', '--user-id', 'u', '--job-id', 'j', '--json'], {
        env: envFor(emulator, { SMILE_BASE_URL: base }),
      });
      expect(run.code).toBe(3);
      expect(run.json()).toMatchObject({ ok: false, error: { code: 'bad_signature' } });
    } finally {
      fake.close();
    }
  });
});
