/**
 * Issue 9 item 7: what the server returns is checked before it is used or shown. A proxy in
 * front of the real emulator changes single fields of the prep upload and job_status answers
 * (the job_status signature covers only the timestamp, so a changed body still verifies).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { SELFIE, envFor, hostileProxy, uid } from './client-helpers.js';
import type { ErrorDoc, HostileProxy } from './client-helpers.js';

let proxy: HostileProxy;

beforeAll(async () => {
  proxy = await hostileProxy();
});
afterAll(async () => {
  await proxy.close();
});
afterEach(() => {
  proxy.rewrite = undefined;
});

const puts = () => proxy.seen.filter((request) => request.method === 'PUT').length;

describe('prep upload answers are checked', () => {
  const urls: [string, string][] = [
    ['a data: URL', 'data:,ok'],
    ['plain http to a host that is not loopback', 'http://uploads.example.com/bucket/selfie.zip'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['not a URL at all', 'selfie.zip'],
  ];
  for (const [name, url] of urls) {
    it(`refuses an upload_url that is ${name}: exit 5 naming upload_url, nothing uploaded`, async () => {
      proxy.rewrite = (path, body) => (path.endsWith('/upload') ? { ...body, upload_url: url } : body);
      const before = puts();
      const run = await runCli(['register', '--user-id', uid('url'), '--selfie', SELFIE, '--json'], {
        env: envFor(proxy),
      });
      expect(run.code, run.stdout + run.stderr).toBe(5);
      const doc = run.json<ErrorDoc>();
      expect(doc.error.code).toBe('bad_response');
      expect(doc.error.message).toContain('upload_url');
      expect(JSON.stringify(doc)).not.toMatch(/approved/);
      expect(puts()).toBe(before);
    });
  }

  it('still takes plain http on a loopback upload_url (the emulator, localhost)', async () => {
    // The proxy itself is http://127.0.0.1: the control case for the test above.
    const run = await runCli(['register', '--user-id', uid('loop'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(0);
  });

  it('refuses a smile_job_id that is not a string', async () => {
    proxy.rewrite = (path, body) => (path.endsWith('/upload') ? { ...body, smile_job_id: { id: 1 } } : body);
    const run = await runCli(['register', '--user-id', uid('sjid'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code).toBe(5);
    expect(run.json<ErrorDoc>().error.message).toContain('smile_job_id');
  });
});

describe('job_status answers are checked (register and status)', () => {
  const variants: [string, string, (body: Record<string, unknown>) => Record<string, unknown>][] = [
    [
      'result.ResultCode an object',
      'result.ResultCode',
      (body) => ({ ...body, result: { ...(body['result'] as object), ResultCode: { a: 1 } } }),
    ],
    ['job_complete a string', 'job_complete', (body) => ({ ...body, job_complete: 'yes' })],
    ['job_success a number', 'job_success', (body) => ({ ...body, job_success: 1 })],
    ['result a number', 'result', (body) => ({ ...body, result: 42 })],
    [
      'result.Actions with a non-string value',
      'result.Actions.Register_Selfie',
      (body) => ({ ...body, result: { ...(body['result'] as object), Actions: { Register_Selfie: ['Approved'] } } }),
    ],
    [
      'result.ResultText a list',
      'result.ResultText',
      (body) => ({ ...body, result: { ...(body['result'] as object), ResultText: ['Enroll User'] } }),
    ],
    ['history not a list', 'history', (body) => ({ ...body, history: 'none' })],
  ];
  for (const [name, field, change] of variants) {
    it(`register: ${name} is an API error naming ${field}, never a result`, async () => {
      proxy.rewrite = (path, body) =>
        path.endsWith('/job_status') && body['job_complete'] === true ? change(body) : body;
      const run = await runCli(['register', '--user-id', uid('bad'), '--selfie', SELFIE, '--json'], {
        env: envFor(proxy),
      });
      expect(run.code, run.stdout + run.stderr).toBe(5);
      const doc = run.json<ErrorDoc>();
      expect(doc.ok).toBe(false);
      expect(doc.error.code).toBe('bad_response');
      expect(doc.error.message).toContain(field);
      expect(JSON.stringify(doc)).not.toContain('"a":1');
    });
  }

  it('status: the same check, human output names the field and prints no result', async () => {
    const user = uid('st');
    const jobId = uid('job');
    expect(
      (
        await runCli(['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE, '--json'], {
          env: envFor(proxy),
        })
      ).code,
    ).toBe(0);
    proxy.rewrite = (path, body) =>
      path.endsWith('/job_status')
        ? { ...body, result: { ...(body['result'] as object), ResultCode: { a: 1 } } }
        : body;
    const run = await runCli(['status', '--user-id', user, '--job-id', jobId], { env: envFor(proxy) });
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('result.ResultCode');
  });

  it('unknown extra keys pass through verbatim (top level and inside result)', async () => {
    const extra = { nested: [1, { deep: 'x' }], flag: null };
    proxy.rewrite = (path, body) =>
      path.endsWith('/job_status') && body['job_complete'] === true
        ? { ...body, kyc_receipt: extra, result: { ...(body['result'] as object), Antifraud: extra, FutureField: 7 } }
        : body;
    const run = await runCli(['register', '--user-id', uid('extra'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(0);
    const doc = run.json<{ result: Record<string, unknown> }>();
    expect(doc.result['Antifraud']).toEqual(extra);
    expect(doc.result['FutureField']).toBe(7);
    expect(doc.result['ResultCode']).toBe('0840');
  });

  it('a plain-string result while no zip has arrived is still fine (smile-api.md §5.2)', async () => {
    proxy.rewrite = (path, body) =>
      path.endsWith('/job_status')
        ? { ...body, job_complete: false, job_success: false, code: '2314', result: 'No zip file received' }
        : body;
    const run = await runCli(['register', '--user-id', uid('nozip'), '--selfie', SELFIE, '--timeout', '1s', '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stderr).toBe(8);
    expect(run.json()).toMatchObject({ outcome: 'pending', result: 'No zip file received' });
  });
});
