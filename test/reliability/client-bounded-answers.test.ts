/**
 * Issue 9 item 6: every response body is read with a limit, and the client stops reading (the
 * connection is cancelled) as soon as the limit is passed. A proxy in front of the real emulator
 * streams a huge body with backpressure and counts what the client actually took.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES } from '../../src/smile/client.js';
import { SIGNED_ANSWER_WINDOW_MS } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';
import { SELFIE, envFor, hostileProxy, streamHugeBody, uid } from './client-helpers.js';
import type { ErrorDoc, HostileProxy } from './client-helpers.js';

const HUGE = 256 * 1024 * 1024;
/** Far below the body: the limit plus what socket buffers on both sides can hold. */
const STOPPED_READING = 48 * 1024 * 1024;

let proxy: HostileProxy;

beforeAll(async () => {
  proxy = await hostileProxy();
});
afterAll(async () => {
  await proxy.close();
});
afterEach(() => {
  proxy.intercept = undefined;
});

/** Serve `match`ing requests with a huge body; returns the stream's counters. */
function hugeAnswerFor(match: (method: string, path: string) => boolean, prefix?: string) {
  const streams: { sent(): number; closed(): boolean }[] = [];
  proxy.intercept = (req, _body, res) => {
    if (!match(req.method ?? 'GET', (req.url ?? '').split('?')[0]!)) return false;
    streams.push(streamHugeBody(res, HUGE, prefix));
    return true;
  };
  return streams;
}

describe('response bodies are capped', () => {
  it('a 256 MB job_status answer: exit 5 naming the limit, and the client stops reading early', async () => {
    const streams = hugeAnswerFor((_method, path) => path.endsWith('/job_status'));
    const run = await runCli(['register', '--user-id', uid('huge'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stdout + run.stderr).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('response_too_large');
    expect(doc.error.message).toMatch(/job status/);
    expect(doc.error.message).toContain(`${MAX_RESPONSE_BYTES.jobStatus / 1024 / 1024} MiB`);
    // A hostile answer is not retried: one stream, and it was hung up on well before its end.
    expect(streams).toHaveLength(1);
    await expect.poll(() => streams[0]!.closed(), { timeout: 10_000, interval: 20 }).toBe(true);
    expect(streams[0]!.sent()).toBeLessThan(STOPPED_READING);
  });

  it('a huge prep upload answer is cut off at its (smaller) limit', async () => {
    const streams = hugeAnswerFor((method, path) => method === 'POST' && path.endsWith('/upload'), '{"upload_url":"');
    const run = await runCli(['register', '--user-id', uid('hugeprep'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('response_too_large');
    expect(doc.error.message).toContain(`${MAX_RESPONSE_BYTES.prepUpload / 1024} KiB`);
    expect(streams).toHaveLength(1);
    await expect.poll(() => streams[0]!.closed(), { timeout: 10_000, interval: 20 }).toBe(true);
    expect(streams[0]!.sent()).toBeLessThan(STOPPED_READING);
  });

  it('a huge answer to the zip PUT (an endless XML error) is cut off too', async () => {
    const streams = hugeAnswerFor((method) => method === 'PUT', '<?xml version="1.0"?><Error><Message>');
    const run = await runCli(['register', '--user-id', uid('hugeput'), '--selfie', SELFIE, '--json'], {
      env: envFor(proxy),
    });
    expect(run.code).toBe(5);
    expect(run.json<ErrorDoc>().error.code).toBe('response_too_large');
    expect(streams).toHaveLength(1);
    await expect.poll(() => streams[0]!.closed(), { timeout: 10_000, interval: 20 }).toBe(true);
    expect(streams[0]!.sent()).toBeLessThan(STOPPED_READING);
  });

  it('smile status gets the same cap', async () => {
    const streams = hugeAnswerFor((_method, path) => path.endsWith('/job_status'));
    const run = await runCli(['status', '--user-id', 'u-1', '--job-id', 'j-1'], { env: envFor(proxy) });
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/larger than/);
    await expect.poll(() => streams[0]!.closed(), { timeout: 10_000, interval: 20 }).toBe(true);
    expect(streams[0]!.sent()).toBeLessThan(STOPPED_READING);
  });

  it('the limits and the signature window are documented in register and status --help, as enforced', async () => {
    for (const command of ['register', 'status']) {
      const help = (await runCli([command, '--help'])).stdout.replace(/\s+/g, ' ');
      expect(help).toContain(`job_status ${MAX_RESPONSE_BYTES.jobStatus / 1024 / 1024} MiB`);
      expect(help).toContain(`prep upload and the zip PUT's answer ${MAX_RESPONSE_BYTES.prepUpload / 1024} KiB`);
      expect(MAX_RESPONSE_BYTES.zipUpload).toBe(MAX_RESPONSE_BYTES.prepUpload);
      expect(help).toContain(`±${SIGNED_ANSWER_WINDOW_MS / 60_000} min`);
    }
  });
});
