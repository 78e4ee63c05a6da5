/**
 * Issue 9 item 5: a signed answer has an age, and a signed request never follows a redirect.
 * A proxy in front of the real emulator re-signs job_status answers (correctly, with the key)
 * with old or future timestamps, and answers signed requests with 307 to a recording server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';
import { SELFIE, envFor, hostileProxy, recordingServer, uid } from './client-helpers.js';
import type { ErrorDoc, HostileProxy, RecordingServer } from './client-helpers.js';

let proxy: HostileProxy;
let elsewhere: RecordingServer;

beforeAll(async () => {
  proxy = await hostileProxy();
  elsewhere = await recordingServer();
});
afterAll(async () => {
  await proxy.close();
  await elsewhere.close();
});
afterEach(() => {
  proxy.rewrite = undefined;
  proxy.intercept = undefined;
  elsewhere.received.length = 0;
});

/** Re-sign a job_status answer with the right key and partner, at another time. */
function resignedAt(timestamp: string) {
  return (path: string, body: Record<string, unknown>) =>
    path.endsWith('/job_status')
      ? { ...body, timestamp, signature: signRequest(proxy.emulator.apiKey, proxy.emulator.partnerId, timestamp) }
      : body;
}

describe('signed job_status answers have an age', () => {
  it('register refuses an approved answer signed (with the key) on 2020-01-01: exit 3, stale_signature', async () => {
    proxy.rewrite = resignedAt('2020-01-01T00:00:00.000Z');
    const run = await runCli(['register', '--user-id', uid('old'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stdout + run.stderr).toBe(3);
    const doc = run.json<ErrorDoc>();
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('stale_signature');
    expect(doc.error.message).toContain('2020-01-01T00:00:00.000Z');
    expect(doc.error.message).toMatch(/15 min/);
    expect(doc.error.hint).toMatch(/clock/);
    expect(doc.error.hint).toContain('smile doctor');
    expect(JSON.stringify(doc)).not.toContain('approved');
  });

  it('status refuses an answer signed an hour in the future, in the human output too', async () => {
    const user = uid('future');
    const jobId = uid('job');
    const ok = await runCli(['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(ok.code, ok.stderr).toBe(0);
    const future = new Date(Date.now() + 60 * 60_000).toISOString();
    proxy.rewrite = resignedAt(future);
    const run = await runCli(['status', '--user-id', user, '--job-id', jobId], { env: envFor(proxy) });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(future);
    expect(run.stderr).toMatch(/ahead of this machine's clock/);
  });

  it('believes a fresh answer signed with an epoch-milliseconds timestamp (the Java fixture style)', async () => {
    proxy.rewrite = (path, body) => resignedAt(String(Date.now()))(path, body);
    const run = await runCli(['register', '--user-id', uid('epoch'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ outcome: 'approved' });
  });
});

describe('signed requests never follow a redirect', () => {
  it('a 307 on /v1/upload is an API error naming the Location host; the signed body goes nowhere else', async () => {
    proxy.intercept = (req, _body, res) => {
      if (!req.url?.startsWith('/v1/upload')) return false;
      res.writeHead(307, { location: `${elsewhere.origin}/v1/upload` });
      res.end();
      return true;
    };
    const run = await runCli(['register', '--user-id', uid('r307'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(elsewhere.received).toEqual([]);
    expect(run.code, run.stdout + run.stderr).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('redirect');
    expect(doc.error.message).toContain(new URL(elsewhere.origin).host);
    expect(doc.error.message).toMatch(/307/);
  });

  it('a 307 on /v1/job_status (status command) is refused the same way', async () => {
    proxy.intercept = (req, _body, res) => {
      if (!req.url?.startsWith('/v1/job_status')) return false;
      res.writeHead(307, { location: `${elsewhere.origin}/v1/job_status` });
      res.end();
      return true;
    };
    const run = await runCli(['status', '--user-id', 'u-x', '--job-id', 'j-x', '--json'], { env: envFor(proxy) });
    expect(elsewhere.received).toEqual([]);
    expect(run.code).toBe(5);
    expect(run.json<ErrorDoc>().error).toMatchObject({ code: 'redirect' });
  });

  it('a redirect on the zip PUT is refused too: the selfie is never sent to the Location', async () => {
    proxy.intercept = (req, _body, res) => {
      if (req.method !== 'PUT') return false;
      res.writeHead(307, { location: `${elsewhere.origin}/bucket/selfie.zip` });
      res.end();
      return true;
    };
    const user = uid('put307');
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--json'], { env: envFor(proxy) });
    expect(elsewhere.received).toEqual([]);
    expect(run.code).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('redirect');
    expect(doc.error.message).toMatch(/zip upload/);
    expect(doc.error.message).toContain(new URL(elsewhere.origin).host);
  });
});
