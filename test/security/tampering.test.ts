/** Tampered job_status answers and tampered callbacks are refused: a mismatch is an error, never a result. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { signedFields } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';
import { MARKED_KEY, recordingProxy } from './helpers.js';

const PARTNER = '085';
const APPROVED = {
  job_complete: true,
  job_success: true,
  code: '2302',
  result: {
    Actions: { Register_Selfie: 'Approved', Selfie_Provided: 'Passed' },
    ResultCode: '0810',
    ResultText: 'Enroll User',
    IsFinalResult: 'true',
    SmileJobID: '0000000001',
    PartnerParams: { user_id: 'u-1', job_id: 'job-1', job_type: '4' },
  },
};

let dir: string;
let answer: () => Record<string, unknown>;
let fake: Server;
let fakeBase: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-tamper-'));
  fake = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer()));
    });
  });
  await new Promise<void>((done) => fake.listen(0, '127.0.0.1', done));
  fakeBase = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  fake.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (baseUrl: string): NodeJS.ProcessEnv => ({
  SMILE_PARTNER_ID: PARTNER,
  SMILE_API_KEY: MARKED_KEY,
  SMILE_BASE_URL: baseUrl,
  SMILE_CONFIG_DIR: join(dir, 'none'),
});

describe('tampered job_status answers (a fake server)', () => {
  const variants: [string, () => Record<string, unknown>][] = [
    ['signed with another key', () => ({ ...APPROVED, ...signedFields('an-attackers-key-000', PARTNER) })],
    ['signed for another partner', () => ({ ...APPROVED, ...signedFields(MARKED_KEY, '086') })],
    [
      'timestamp changed after signing',
      () => {
        const fields = signedFields(MARKED_KEY, PARTNER);
        return { ...APPROVED, ...fields, timestamp: new Date(Date.parse(fields.timestamp) + 1000).toISOString() };
      },
    ],
    ['no signature', () => ({ ...APPROVED, timestamp: new Date().toISOString() })],
    ['an empty signature', () => ({ ...APPROVED, timestamp: new Date().toISOString(), signature: '' })],
    [
      'a signature that is not base64',
      () => ({ ...APPROVED, timestamp: new Date().toISOString(), signature: '!!!not-base64!!!' }),
    ],
  ];
  for (const [name, make] of variants) {
    it(`status refuses an answer ${name} (exit 3, no result shown)`, async () => {
      answer = make;
      const run = await runCli(['status', '--user-id', 'u-1', '--job-id', 'job-1', '--json'], { env: env(fakeBase) });
      expect(run.code).toBe(3);
      expect(run.json()).toEqual({ ok: false, error: expect.objectContaining({ code: 'bad_signature' }) });
      const human = await runCli(['status', '--user-id', 'u-1', '--job-id', 'job-1'], { env: env(fakeBase) });
      expect(human.code).toBe(3);
      expect(human.stdout).toBe('');
      expect(human.stderr).toMatch(/not signed with your API key/);
    });
  }

  it('believes the same answer when it is signed with our key (the control)', async () => {
    answer = () => ({ ...APPROVED, ...signedFields(MARKED_KEY, PARTNER) });
    const run = await runCli(['status', '--user-id', 'u-1', '--job-id', 'job-1', '--json'], { env: env(fakeBase) });
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ outcome: 'approved' });
  });
});

describe('tampered job_status during register (a proxy in front of the emulator)', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, apiKey: MARKED_KEY, processingMs: 30 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('register stops with exit 3 instead of printing a forged approval', async () => {
    const proxy = await recordingProxy(emulator.origin);
    proxy.rewrite = (path, body) =>
      path.endsWith('/job_status')
        ? { ...body, job_success: true, signature: signedFields('forger', PARTNER).signature }
        : body;
    try {
      const run = await runCli(
        [
          'register',
          '--user-id',
          'tampered-user',
          '--selfie',
          resolve('fixtures/selfies/demo.jpg'),
          '--sandbox-result',
          'reject',
          '--json',
        ],
        { env: env(proxy.baseUrl) },
      );
      expect(run.code).toBe(3);
      const doc = run.json<{ ok: boolean; outcome?: string; error?: { code: string } }>();
      expect(doc.ok).toBe(false);
      expect(doc.outcome).toBeUndefined();
      expect(doc.error?.code).toBe('bad_signature');
    } finally {
      await proxy.close();
    }
  });

  it('doctor fails the signed round trip through the same proxy', async () => {
    const proxy = await recordingProxy(emulator.origin);
    proxy.rewrite = (path, body) =>
      path.endsWith('/job_status') ? { ...body, ...signedFields('forger', PARTNER) } : body;
    try {
      const run = await runCli(['doctor', '--json'], { env: env(proxy.baseUrl) });
      expect(run.code).toBe(3);
      expect(
        run.json<{ checks: { name: string; status: string }[] }>().checks.find((check) => check.name === 'round_trip')
          ?.status,
      ).toBe('fail');
    } finally {
      await proxy.close();
    }
  });
});

describe('tampered callbacks', () => {
  const result = {
    Actions: { Register_Selfie: 'Rejected' },
    IsFinalResult: 'true',
    IsMachineResult: 'true',
    PartnerParams: { user_id: 'u-1', job_id: 'job-1', job_type: '4' },
    ResultCode: '0813',
    ResultText: 'Enroll User FAIL',
  };

  it('callback verify refuses every tampered variant with exit 3 and prints no result', async () => {
    const genuine = { ...result, ...signedFields(MARKED_KEY, PARTNER) };
    const variants: Record<string, unknown>[] = [
      { ...genuine, signature: signedFields('forger', PARTNER).signature },
      { ...genuine, timestamp: new Date(Date.parse(genuine.timestamp) - 1).toISOString() },
      { ...result, timestamp: genuine.timestamp },
      { ...result, signature: genuine.signature },
      { ...genuine, signature: genuine.signature.slice(0, -4) },
    ];
    for (const [index, body] of variants.entries()) {
      const file = join(dir, `tampered-${index}.json`);
      await writeFile(file, JSON.stringify(body));
      const run = await runCli(['callback', 'verify', file], { env: env(fakeBase) });
      expect(run.code, `variant ${index}`).toBe(3);
      expect(run.stdout, `variant ${index}`).toBe('');
      const json = await runCli(['callback', 'verify', file, '--json'], { env: env(fakeBase) });
      expect(json.json<{ ok: boolean; outcome?: string }>()).toEqual({ ok: false, error: expect.anything() });
    }
    const control = join(dir, 'genuine.json');
    await writeFile(control, JSON.stringify(genuine));
    expect((await runCli(['callback', 'verify', control], { env: env(fakeBase) })).code).toBe(6);
  });
});
