import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { DEFAULT_EMULATOR_API_KEY, startEmulator } from '../../../src/emulator/index.js';
import { describeSpan } from '../../../src/smile/callback.js';
import { CALLBACK_MAX_AGE_MS, signedFields } from '../../../src/smile/sign.js';
import type { ResultObject } from '../../../src/smile/types.js';
import { runCli } from '../../helpers/run-cli.js';

const KEY = 'callback-test-key-5f1c0e9a';
const PARTNER = '085';
let dir: string;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  SMILE_PARTNER_ID: PARTNER,
  SMILE_API_KEY: KEY,
  SMILE_CONFIG_DIR: join(dir, 'none'),
  ...extra,
});

const NA = 'Not Applicable';
function result(kind: 'approved' | 'rejected' | 'provisional' | 'reviewed', user = 'u-1', job = 'job-1'): ResultObject {
  const base = {
    ConfidenceValue: '100',
    JSONVersion: '1.0.0',
    PartnerParams: { job_id: job, user_id: user, job_type: '4' },
    ResultType: 'SAIA',
    SmileJobID: '0000000042',
    Source: 'WebAPI',
  };
  const human = { Human_Review_Compare: NA, Human_Review_Liveness_Check: NA, Human_Review_Update_Selfie: NA };
  switch (kind) {
    case 'approved':
      return {
        ...base,
        Actions: { ...human, Liveness_Check: NA, Register_Selfie: 'Approved', Selfie_Provided: 'Passed' },
        IsFinalResult: 'true',
        IsMachineResult: 'true',
        ResultCode: '0810',
        ResultText: 'Enroll User',
      };
    case 'rejected':
      return {
        ...base,
        Actions: { ...human, Liveness_Check: NA, Register_Selfie: 'Rejected', Selfie_Provided: 'Passed' },
        IsFinalResult: 'true',
        IsMachineResult: 'true',
        ResultCode: '0813',
        ResultText: 'Enroll User FAIL',
      };
    case 'provisional':
      return {
        ...base,
        Actions: {
          ...human,
          Human_Review_Compare: 'Under Review',
          Liveness_Check: NA,
          Register_Selfie: 'Provisionally Approved',
          Selfie_Provided: 'Passed',
        },
        IsFinalResult: 'false',
        IsMachineResult: 'true',
        ResultCode: '0814',
        ResultText: 'Provisional Enroll - Under Review',
      };
    case 'reviewed':
      return {
        ...base,
        Actions: {
          ...human,
          Human_Review_Compare: 'Passed',
          Liveness_Check: NA,
          Register_Selfie: 'Approved',
          Selfie_Provided: 'Passed',
        },
        IsFinalResult: 'true',
        IsMachineResult: 'false',
        ResultCode: '1210',
        ResultText: 'Enroll User',
      };
  }
}
const signed = (body: ResultObject, key = KEY, partner = PARTNER) => ({ ...body, ...signedFields(key, partner) });

async function bodyFile(name: string, body: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-callback-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('smile callback verify', () => {
  it('verifies a signed body and prints it as register does (JSON)', async () => {
    const file = await bodyFile('approved.json', signed(result('approved', 'u-7', 'job-7')));
    const run = await runCli(['callback', 'verify', file, '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json();
    expect(doc).toMatchObject({
      ok: true,
      outcome: 'approved',
      environment: 'sandbox',
      user_id: 'u-7',
      job_id: 'job-7',
      smile_job_id: '0000000042',
      result_code: '0810',
      result_text: 'Enroll User',
      job_complete: true,
      job_success: true,
      signature_verified: true,
    });
    expect(doc['actions']).toMatchObject({ Register_Selfie: 'Approved' });
    expect(doc['result']).not.toHaveProperty('signature');
    expect(doc['result']).not.toHaveProperty('timestamp');
    expect(typeof doc['timestamp']).toBe('string');
  });

  it('prints the human card with the verification line, reading stdin with -', async () => {
    const run = await runCli(['callback', 'verify', '-'], {
      env: env(),
      stdin: JSON.stringify(signed(result('reviewed'))),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^✓ approved · sandbox/);
    expect(run.stdout).toContain('1210 Enroll User');
    expect(run.stdout).toMatch(/signature verified \(partner 085, signed .*\) · human review result, final/);
  });

  it('exits like register for rejected (6) and provisional (8) results', async () => {
    const rejected = await runCli(
      ['callback', 'verify', await bodyFile('rejected.json', signed(result('rejected'))), '--json'],
      { env: env() },
    );
    expect(rejected.code).toBe(6);
    expect(rejected.json()).toMatchObject({ ok: false, outcome: 'rejected', job_success: false });
    const provisional = await runCli(
      ['callback', 'verify', await bodyFile('provisional.json', signed(result('provisional'))), '--json'],
      { env: env() },
    );
    expect(provisional.code).toBe(8);
    expect(provisional.json()).toMatchObject({ outcome: 'provisional' });
  });

  it('refuses a tampered signature (exit 3) and never shows the result', async () => {
    const body = signed(result('approved'));
    const file = await bodyFile('tampered.json', {
      ...body,
      signature: signedFields('someone-elses-key', PARTNER).signature,
    });
    const run = await runCli(['callback', 'verify', file, '--json'], { env: env() });
    expect(run.code).toBe(3);
    const doc = run.json<{ ok: boolean; error: { code: string; message: string }; outcome?: string }>();
    expect(doc).toEqual({ ok: false, error: expect.objectContaining({ code: 'bad_signature' }) });
    const human = await runCli(['callback', 'verify', file], { env: env() });
    expect(human.code).toBe(3);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/not verified.*not shown as a result/);
  });

  it('refuses a changed timestamp, a missing signature and another partner id (exit 3)', async () => {
    const body = signed(result('approved'));
    for (const [name, content, argvEnv] of [
      ['timestamp.json', { ...body, timestamp: new Date(Date.parse(body.timestamp) + 1).toISOString() }, env()],
      ['unsigned.json', result('approved'), env()],
      ['partner.json', body, env({ SMILE_PARTNER_ID: '086' })],
    ] as const) {
      const run = await runCli(['callback', 'verify', await bodyFile(name, content), '--json'], { env: argvEnv });
      expect(run.code, name).toBe(3);
      expect(run.json<{ ok: boolean }>().ok).toBe(false);
    }
  });

  it('exits 4 for a body that is not a JSON object, 3 without credentials', async () => {
    expect((await runCli(['callback', 'verify', await bodyFile('text.txt', 'hello')], { env: env() })).code).toBe(4);
    expect((await runCli(['callback', 'verify', await bodyFile('array.json', [1, 2])], { env: env() })).code).toBe(4);
    expect((await runCli(['callback', 'verify', join(dir, 'missing.json')], { env: env() })).code).toBe(4);
    const noKey = await runCli(['callback', 'verify', await bodyFile('ok.json', signed(result('approved')))], {
      env: { SMILE_CONFIG_DIR: join(dir, 'none') },
    });
    expect(noKey.code).toBe(3);
  });

  it('checks --max-age when the flags are read (exit 2), naming the default window', async () => {
    const file = await bodyFile('age.json', signed(result('approved')));
    const zero = await runCli(['callback', 'verify', file, '--max-age', '0', '--json'], { env: env() });
    expect(zero.code).toBe(2);
    expect(zero.json()).toMatchObject({ ok: false, error: { message: '--max-age must be longer than 0, not "0".' } });
    const bad = await runCli(['callback', 'listen', '--port', '0', '--max-age', 'soon', '--json'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.json()).toMatchObject({
      ok: false,
      error: {
        message: '--max-age takes a duration like 90m, 24h or 30d, not "soon".',
        hint: expect.stringContaining(`The default is ${describeSpan(CALLBACK_MAX_AGE_MS)};`),
      },
    });
  });

  it('verifies the emulator callbacks with --emulator (its throwaway key)', async () => {
    const file = await bodyFile('emulator.json', signed(result('approved'), DEFAULT_EMULATOR_API_KEY));
    const run = await runCli(['callback', 'verify', file, '--emulator', '--json'], {
      env: { SMILE_CONFIG_DIR: join(dir, 'none') },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ outcome: 'approved', signature_verified: true });
  });
});

interface Listening {
  url: string;
  stdout(): string;
  stderr(): string;
  stop(): Promise<number>;
}

async function listen(argv: string[], environment: NodeJS.ProcessEnv): Promise<Listening> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const controller = new AbortController();
  const done = main(['callback', 'listen', '--port', '0', ...argv], {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { NO_COLOR: '1', ...environment },
    signal: controller.signal,
  });
  let url: string | undefined;
  await expect
    .poll(
      () => {
        url = /listening on (http:\/\/[^/]+)\//.exec(err)?.[1];
        return url ?? err;
      },
      { timeout: 5000 },
    )
    .toMatch(/^http:/);
  return {
    url: url!,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('smile callback listen', () => {
  it('answers 200 for verified results (saved first), 401 bad signature, 400 not JSON, 413 too large', async () => {
    const out = join(dir, 'answers.jsonl');
    const listener = await listen(['--out', out, '--json'], env());
    try {
      const good = signed(result('approved', 'u-9', 'job-9'));
      const ok = await post(`${listener.url}/any/path`, JSON.stringify(good));
      expect(ok.status).toBe(200);
      // On disk before the answer.
      const saved = (await readFile(out, 'utf8')).trim().split('\n');
      expect(saved).toHaveLength(1);
      expect(JSON.parse(saved[0]!)).toMatchObject({
        outcome: 'approved',
        user_id: 'u-9',
        job_id: 'job-9',
        path: '/any/path',
        signature_verified: true,
      });
      expect(saved[0]).not.toContain(good.signature);

      expect(
        (
          await post(
            listener.url,
            JSON.stringify({ ...good, signature: signedFields('nope-not-key', PARTNER).signature }),
          )
        ).status,
      ).toBe(401);
      expect((await post(listener.url, JSON.stringify(result('approved')))).status).toBe(401);
      expect((await post(listener.url, 'not json at all')).status).toBe(400);
      expect((await post(listener.url, 'x'.repeat(2 * 1024 * 1024 + 10))).status).toBe(413);
      expect((await fetch(listener.url)).status).toBe(200);
      expect((await fetch(listener.url, { method: 'DELETE' })).status).toBe(405);
      expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(1);
    } finally {
      expect(await listener.stop()).toBe(0);
    }
    // One JSON line per verified result on stdout; refusals are on stderr.
    const lines = listener.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ outcome: 'approved', user_id: 'u-9' });
    expect(listener.stderr()).toMatch(/refused POST \/: the signature does not verify/);
    expect(listener.stderr()).toMatch(/stopped: 1 verified result saved to .*answers\.jsonl, 4 refused/);
  });

  it('receives both the machine and the human-review result of an emulator job, verified, in the JSONL', async () => {
    const emulator = await startEmulator({ port: 0, apiKey: KEY, processingMs: 100, humanReviewMs: 150 });
    const out = join(dir, 'emulator.jsonl');
    const listener = await listen(['--out', out], env());
    try {
      const run = await runCli(
        [
          'register',
          '--user-id',
          'cb-user',
          '--selfie',
          'fixtures/selfies/demo.jpg',
          '--sandbox-result',
          'provisional',
          '--callback-url',
          `${listener.url}/cb`,
          '--no-wait',
          '--json',
        ],
        { env: env({ SMILE_BASE_URL: emulator.baseUrl }) },
      );
      expect(run.code, run.stderr).toBe(0);
      const jobId = String(run.json()['job_id']);
      // The emulator issues each result from a timer, and also whenever job_status is asked. Its
      // timers can fire a millisecond before their due time by Date.now() and are then not re-armed
      // (src/emulator/lifecycle.ts scheduleJob/settleJob), which left the human review unsent: so
      // while waiting, ask job_status as an operator would (`smile status`), which settles the job.
      const settle = () =>
        runCli(['status', '--user-id', 'cb-user', '--job-id', jobId, '--json'], {
          env: env({ SMILE_BASE_URL: emulator.baseUrl }),
        });
      const deliveries = () => emulator.state.callbacks.filter((delivery) => delivery.jobId === jobId);
      // The listener writes a line before it answers: wait for the emulator to have seen both answers too.
      const delivered = async () => {
        const done = deliveries()
          .filter((delivery) => delivery.done)
          .map((delivery) => delivery.status);
        if (done.length < 2) await settle();
        return done;
      };
      await expect
        .poll(delivered, { timeout: 20_000, interval: 200 })
        .toEqual([200, 200])
        .catch((error: unknown) => {
          throw new Error(
            `${String(error)}\ndeliveries: ${JSON.stringify(emulator.state.callbacks.map(({ payload: _payload, ...rest }) => rest))}\njob: ${JSON.stringify(emulator.state.jobs.get(jobId)?.status)}\nlistener: ${listener.stderr()}`,
          );
        });
      const records = (await readFile(out, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.map((record) => [record['job_id'], record['outcome'], record['result_code']])).toEqual([
        [jobId, 'provisional', '0814'],
        [jobId, 'approved', '1210'],
      ]);
    } finally {
      await listener.stop();
      await emulator.close();
    }
    const lines = listener.stdout().trim().split('\n');
    expect(lines[0]).toMatch(
      /^… provisional · user cb-user · job job-.* · 0814 Provisional Enroll - Under Review · machine result, not final$/,
    );
    expect(lines[1]).toMatch(/^✓ approved · user cb-user · .* · 1210 Enroll User · human review result, final$/);
  });

  it('forwards verified bodies verbatim without delaying the answer, retrying a failing target', async () => {
    const received: string[] = [];
    let failFirst = true;
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          res.statusCode = 503;
          res.end();
          return;
        }
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const forwardUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/smile`;
    const listener = await listen(['--forward', forwardUrl], env());
    try {
      const body = JSON.stringify(signed(result('rejected')));
      expect((await post(listener.url, body)).status).toBe(200);
      expect((await post(listener.url, JSON.stringify({ nope: true }))).status).toBe(401);
      await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
      expect(received[0]).toBe(body);
    } finally {
      await listener.stop();
      target.close();
    }
    expect(listener.stdout()).toMatch(/^✗ rejected · user u-1/);
  });

  it('never follows a redirect with a signed body when forwarding', async () => {
    let bodiesElsewhere = 0;
    const elsewhere = createServer((req, res) => {
      req.on('data', () => (bodiesElsewhere += 1));
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const redirecting = createServer((_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/steal`);
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const listener = await listen(
      ['--forward', `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/smile`],
      env(),
    );
    try {
      expect((await post(listener.url, JSON.stringify(signed(result('approved'))))).status).toBe(200);
      await expect
        .poll(() => listener.stderr(), { timeout: 20_000 })
        .toMatch(/forward of .* failed after 1 attempt: redirected \(HTTP 307\).*not followed/);
      expect(bodiesElsewhere).toBe(0);
    } finally {
      await listener.stop();
      redirecting.close();
      elsewhere.close();
    }
  });

  it('refuses to start without credentials (exit 3) or on a port in use (exit 2)', async () => {
    const noKey = await runCli(['callback', 'listen', '--port', '0'], { env: { SMILE_CONFIG_DIR: join(dir, 'none') } });
    expect(noKey.code).toBe(3);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const run = await runCli(['callback', 'listen', '--port', String((busy.address() as AddressInfo).port)], {
        env: env(),
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/already in use/);
    } finally {
      busy.close();
    }
    expect((await runCli(['callback', 'listen'], { env: env() })).code).toBe(2);
  });

  it('refuses an --out that is a named pipe at once (opening it would block until someone reads it)', async () => {
    const fifo = join(dir, 'results.fifo');
    execFileSync('mkfifo', [fifo]);
    const run = await runCli(['callback', 'listen', '--port', '0', '--out', fifo], { env: env() });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/is not a regular file \(a named pipe\)/);
  });
});

describe('smile callback verify - on a terminal', () => {
  it('refuses to wait for a body typed into a terminal (exit 2)', async () => {
    const run = await runCli(['callback', 'verify', '-'], {
      env: { SMILE_PARTNER_ID: '085', SMILE_API_KEY: 'k-0123456789' },
      isTTY: true,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/stdin is a terminal/);
  });
});
