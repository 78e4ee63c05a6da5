/**
 * Issue 13 items 3–6: what smile makes of Smile ID's codes, and how it signs retried job_status
 * calls. The CLI runs in-process against the real emulator, behind a loopback proxy where a test
 * needs the server to answer something the emulator does not (a 2204, a 503, an ignored flag).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';
import { SELFIE, envFor, hostileProxy, uid } from '../reliability/client-helpers.js';
import type { ErrorDoc, HostileProxy } from '../reliability/client-helpers.js';

let proxy: HostileProxy;

beforeAll(async () => {
  proxy = await hostileProxy({ processingMs: 20 });
});
afterAll(async () => {
  await proxy.close();
});
afterEach(() => {
  proxy.intercept = undefined;
  proxy.rewrite = undefined;
});

/** Forward a request to the emulator with a changed JSON body, and pass its answer back (upload URL via the proxy). */
async function forwardChanged(
  path: string,
  body: Record<string, unknown>,
  res: import('node:http').ServerResponse,
): Promise<void> {
  const answer = await fetch(`${proxy.emulator.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = (await answer.text()).replaceAll(proxy.emulator.origin, proxy.origin);
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(text);
}

describe('item 3: 2204 is an authorisation error (troubleshooting page), with the data-type reading kept', () => {
  it('register exits 3 on a 2204 from the prep upload, with the key/environment/timestamp hint', async () => {
    proxy.intercept = (req, _body, res) => {
      if (!req.url?.startsWith('/v1/upload')) return false;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: '2204', error: 'A parameter is of the wrong data type' }));
      return true;
    };
    const run = await runCli(['register', '--user-id', uid('auth2204'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(3);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('2204');
    expect(doc.error.hint).toMatch(/API key/);
    expect(doc.error.hint).toMatch(/environment/);
    expect(doc.error.hint).toMatch(/timestamp|clock/);
    expect(doc.error.hint).toMatch(/wrong data type|type/);
    expect(JSON.stringify(doc)).not.toContain(proxy.emulator.apiKey);
  });

  it('explain 2204 gives both readings and the auth exit family', async () => {
    const run = await runCli(['explain', '2204', '--json']);
    expect(run.code).toBe(0);
    const doc = run.json<{ exit: string; meaning: string; hint: string }>();
    expect(doc.exit).toBe('auth');
    expect(doc.meaning).toMatch(/authori[sz]ation/i);
    expect(doc.meaning).toMatch(/wrong data type/i);
    const human = await runCli(['explain', '2204']);
    expect(human.stdout).toMatch(/authori[sz]ation/i);
    expect(human.stdout).toMatch(/wrong data type/i);
  });
});

describe('item 4: every job_status attempt is signed afresh', () => {
  it('a retried job_status carries a new timestamp and signature, each valid, and the emulator accepts the retry', async () => {
    const attempts: Record<string, unknown>[] = [];
    proxy.intercept = (req, body, res) => {
      if (!req.url?.startsWith('/v1/job_status')) return false;
      attempts.push(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      if (attempts.length > 1) return false;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"code":"2201","error":"System Error"}');
      return true;
    };
    const run = await runCli(['register', '--user-id', uid('resign'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    const [first, second] = attempts as [Record<string, unknown>, Record<string, unknown>];
    expect(second['timestamp']).not.toBe(first['timestamp']);
    expect(second['signature']).not.toBe(first['signature']);
    for (const attempt of attempts) {
      expect(
        verifySignature(proxy.emulator.apiKey, proxy.emulator.partnerId, attempt['timestamp'], attempt['signature']),
      ).toBe(true);
    }
    // The same job each time: only the signing fields change.
    const strip = ({ timestamp: _t, signature: _s, ...rest }: Record<string, unknown>) => rest;
    expect(strip(second)).toEqual(strip(first));
  });

  it('smile status --wait signs each poll afresh too: no two job_status calls share a timestamp', async () => {
    const user = uid('polls');
    const jobId = uid('job');
    const ok = await runCli(
      ['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE, '--no-wait', '--json'],
      {
        env: envFor(proxy),
      },
    );
    expect(ok.code, ok.stderr).toBe(0);
    const stamps: string[] = [];
    proxy.intercept = (req, body, res) => {
      if (!req.url?.startsWith('/v1/job_status')) return false;
      stamps.push(String((JSON.parse(body.toString('utf8')) as Record<string, unknown>)['timestamp']));
      if (stamps.length > 2) return false;
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
      return true;
    };
    const run = await runCli(['status', '--user-id', user, '--job-id', jobId, '--wait', '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(stamps.length).toBeGreaterThanOrEqual(3);
    expect(new Set(stamps).size).toBe(stamps.length);
  });
});

describe('item 5: job_type 4 result codes', () => {
  it('the emulator approves a registration with 0840 "Enroll User" (Smile ID image-enroll README)', async () => {
    const run = await runCli(['register', '--user-id', uid('ok'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json<{ result_code: string; result_text: string }>();
    expect(doc.result_code).toBe('0840');
    expect(doc.result_text).toBe('Enroll User');
  });

  it('and rejects one with 0841 "Enroll User FAIL" (exit 6), whose explain says it is unconfirmed', async () => {
    const run = await runCli(
      ['register', '--user-id', uid('no'), '--selfie', SELFIE, '--sandbox-result', 'reject', '--json'],
      { env: envFor(proxy) },
    );
    expect(run.code, run.stderr).toBe(6);
    expect(run.json<{ result_code: string }>().result_code).toBe('0841');
    const explained = await runCli(['explain', '0841', '--json']);
    expect(explained.json<{ unverified: boolean; exit: string }>()).toMatchObject({
      unverified: true,
      exit: 'refused',
    });
  });

  it('explain 0840 is sourced; 0813 is no longer a SmartSelfie code; 0810 names where it was seen', async () => {
    const d0840 = (await runCli(['explain', '0840', '--json'])).json<{ unverified: boolean; exit: string }>();
    expect(d0840).toMatchObject({ unverified: false, exit: 'ok' });
    const d0813 = (await runCli(['explain', '0813', '--json'])).json<{ meaning: string; unverified: boolean }>();
    expect(d0813.meaning).toMatch(/document/i);
    expect(d0813.unverified).toBe(true);
    const d0810 = (await runCli(['explain', '0810', '--json'])).json<{ meaning: string }>();
    expect(d0810.meaning).toMatch(/job type 1|Biometric KYC/i);
  });
});

describe('item 6: 2209 although --allow-re-enroll was passed', () => {
  /** A server that ignores the per-request flag: allow_new_enroll is dropped before the emulator sees it. */
  function ignoreAllowNewEnroll(): void {
    proxy.intercept = (req, body, res) => {
      if (!req.url?.startsWith('/v1/upload')) return false;
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      void forwardChanged('/v1/upload', { ...parsed, allow_new_enroll: false }, res);
      return true;
    };
  }

  it('register names the enrollee endpoint instead of the flag that was passed', async () => {
    const user = uid('again');
    const first = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--json'], { env: envFor(proxy) });
    expect(first.code, first.stderr).toBe(0);
    ignoreAllowNewEnroll();
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--allow-re-enroll', '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(6);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('2209');
    expect(doc.error.hint).toContain('/api/v2/partner/enrollee');
    expect(doc.error.hint).toMatch(/allow_new_enroll/);
    expect(doc.error.hint).not.toMatch(/run again with --allow-re-enroll/);
    // Without the flag, the first hint still is to pass it.
    proxy.intercept = undefined;
    const plain = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--json'], { env: envFor(proxy) });
    expect(plain.code).toBe(6);
    expect(plain.json<ErrorDoc>().error.hint).toMatch(/--allow-re-enroll/);
  });

  it('bulk --if-enrolled replace gives the same route in the row reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smile-codes-'));
    try {
      await mkdir(join(dir, 'photos'));
      await copyFile(resolve(SELFIE), join(dir, 'photos', 'face.jpg'));
      const user = uid('bulkagain');
      const first = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--json'], { env: envFor(proxy) });
      expect(first.code, first.stderr).toBe(0);
      ignoreAllowNewEnroll();
      const file = join(dir, 'users.csv');
      await writeFile(file, `user_id,selfie\n${user},photos/face.jpg\n`);
      const report = join(dir, 'report.jsonl');
      const run = await runCli(['bulk', file, '--if-enrolled', 'replace', '--report', report], {
        env: envFor(proxy, { HOME: dir }),
      });
      expect(run.code, run.stderr).toBe(6);
      const line = JSON.parse((await readFile(report, 'utf8')).trim()) as { reason: string; outcome: string };
      expect(line.outcome).toBe('refused');
      expect(line.reason).toContain('/api/v2/partner/enrollee');
      expect(line.reason).not.toMatch(/use --if-enrolled skip or replace/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('explain 2209 names both routes', async () => {
    const doc = (await runCli(['explain', '2209', '--json'])).json<{ hint: string }>();
    expect(doc.hint).toMatch(/--allow-re-enroll/);
    expect(doc.hint).toContain('/api/v2/partner/enrollee');
  });
});
