import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { ApiError, AuthError, RefusedError } from '../../../src/errors.js';
import { MAX_RESPONSE_BYTES, ResponseTooLargeError, SmileClient, fetchWithTimeout } from '../../../src/smile/client.js';
import type { SmileClientConfig } from '../../../src/smile/client.js';
import { buildJobZip } from '../../../src/smile/package.js';
import { waitFor } from '../../helpers/wait-for.js';

let emulator: RunningEmulator;
const signal = new AbortController().signal;
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]);
let n = 0;
const ids = () => ({ user_id: `cu-${++n}`, job_id: `cj-${process.pid}-${n}`, job_type: 4 });

function client(extra: Partial<SmileClientConfig> = {}): SmileClient {
  return new SmileClient({
    baseUrl: emulator.baseUrl,
    partnerId: emulator.partnerId,
    apiKey: emulator.apiKey,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    ...extra,
  });
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 50 });
});
afterAll(async () => {
  await emulator.close();
});

describe('SmileClient against the emulator', () => {
  it('runs prep upload → PUT → job_status with a verified signature', async () => {
    const c = client();
    const partnerParams = ids();
    const prepared = await c.prepUpload({ partnerParams }, { signal });
    expect(prepared.response.code).toBe('2202');
    expect(prepared.retried).toBe(false);
    const zip = buildJobZip({
      partnerId: c.partnerId,
      timestamp: prepared.timestamp,
      signature: prepared.signature,
      partnerParams,
      selfie: JPEG,
      server: prepared.response,
    });
    await c.uploadZip(prepared.response.upload_url, zip, { signal });
    await expect
      .poll(
        async () =>
          (await c.jobStatus({ userId: partnerParams.user_id, jobId: partnerParams.job_id }, { signal })).job_complete,
        { timeout: 5000, interval: 50 },
      )
      .toBe(true);
  });

  it('recovers a prep upload whose answer was lost with retry: true — one job, never two', async () => {
    emulator.setFaults({ dropAfterWorkRate: 1 });
    const reasons: string[] = [];
    const c = client({
      onRetry: ({ reason }) => {
        reasons.push(reason);
        emulator.setFaults({});
      },
    });
    const partnerParams = ids();
    try {
      const prepared = await c.prepUpload({ partnerParams }, { signal });
      expect(prepared.retried).toBe(true);
      expect(reasons).toHaveLength(1);
      const job = emulator.state.jobs.get(partnerParams.job_id)!;
      // First request created the job (answer dropped), the re-send met 2215, then retry:true got a fresh URL.
      expect(emulator.state.prepUploadCount(partnerParams.user_id, partnerParams.job_id)).toBe(3);
      expect(job.prepUploads).toHaveLength(2);
      expect(job.prepUploads[1]).toMatchObject({ retry: true });
      expect([...emulator.state.jobs.values()].filter((j) => j.userId === partnerParams.user_id)).toHaveLength(1);
    } finally {
      emulator.setFaults({});
    }
  });

  it('does not turn a plain 2215 (no earlier lost attempt) into a retry', async () => {
    const c = client();
    const partnerParams = ids();
    await c.prepUpload({ partnerParams }, { signal });
    await expect(c.prepUpload({ partnerParams }, { signal })).rejects.toMatchObject({ code: '2215', exitCode: 6 });
    await expect(c.prepUpload({ partnerParams }, { signal })).rejects.toBeInstanceOf(RefusedError);
  });

  it('honours 429 Retry-After before retrying', async () => {
    emulator.setFaults({ rateLimitRate: 1, retryAfterSeconds: 1 });
    const delays: number[] = [];
    let limited = 0;
    const c = client({
      onRateLimited: () => limited++,
      onRetry: ({ delayMs }) => {
        delays.push(delayMs);
        emulator.setFaults({});
      },
    });
    try {
      const status = c.jobStatus({ userId: 'nobody', jobId: 'nothing' }, { signal });
      await expect(status).rejects.toMatchObject({ code: '2303' });
      expect(limited).toBe(1);
      expect(delays[0]).toBeGreaterThanOrEqual(1000);
    } finally {
      emulator.setFaults({});
    }
  });

  it("a 429 that outlasts every attempt ends as an ApiError (exit 5) that keeps the server's Retry-After", async () => {
    emulator.setFaults({ rateLimitRate: 1, retryAfterSeconds: 7 });
    try {
      const c = client({ retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 } });
      const error = await c.jobStatus({ userId: 'u', jobId: 'j' }, { signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ status: 429, retryAfterMs: 7000, exitCode: 5 });
    } finally {
      emulator.setFaults({});
    }
  });

  it('gives up on 500s after maxAttempts with an ApiError (exit 5)', async () => {
    emulator.setFaults({ errorRate: 1 });
    let retries = 0;
    const c = client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, onRetry: () => retries++ });
    try {
      const error = await c.prepUpload({ partnerParams: ids() }, { signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).exitCode).toBe(5);
      expect(retries).toBe(2);
    } finally {
      emulator.setFaults({});
    }
  });

  it('retries a timed-out request and then succeeds', async () => {
    emulator.setFaults({ latencyMs: 400 });
    const c = client({ timeoutMs: 100, onRetry: () => emulator.setFaults({}) });
    try {
      const prepared = await c.prepUpload({ partnerParams: ids() }, { signal });
      expect(prepared.response.smile_job_id).toMatch(/^\d{10}$/);
    } finally {
      emulator.setFaults({});
    }
  });

  it('maps 2205 to an AuthError (exit 3) with the check-key-environment-clock hint', async () => {
    const c = new SmileClient({
      baseUrl: emulator.baseUrl,
      partnerId: emulator.partnerId,
      apiKey: 'wrong-key-wrong-key',
    });
    const error = await c.prepUpload({ partnerParams: ids() }, { signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).hint).toMatch(/environment/);
    expect((error as AuthError).hint).toMatch(/clock/);
  });

  it('refuses a PUT the server rejects (403) with an ApiError naming the fix', async () => {
    const c = client();
    const prepared = await c.prepUpload({ partnerParams: ids() }, { signal });
    const tampered = prepared.response.upload_url.replace(/Signature=[^&]+/, 'Signature=forged');
    await expect(c.uploadZip(tampered, JPEG, { signal })).rejects.toMatchObject({ code: 'http_403', exitCode: 5 });
  });

  it('stops at once when the signal aborts', async () => {
    emulator.setFaults({ latencyMs: 2000 });
    const controller = new AbortController();
    const partnerParams = ids();
    const mine = () =>
      emulator.state.requests.find(
        (request) => request.path === '/v1/upload' && request.jobId === partnerParams.job_id,
      );
    try {
      const pending = client().prepUpload({ partnerParams }, { signal: controller.signal });
      // Abort while the request is at the server (which answers 2 s later), not after a guessed delay.
      await waitFor(() => mine() !== undefined, 'the prep upload to reach the emulator');
      controller.abort();
      await expect(pending).rejects.toMatchObject({ exitCode: 130 });
      // At once: the client gave up before the server had answered.
      expect(mine()?.status).toBe(0);
    } finally {
      emulator.setFaults({});
    }
  });
});

describe('SmileClient limits: deadline, body caps, redirects', () => {
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer(handler);
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it('clips an attempt to the deadline and reports it as code deadline (not a retry)', async () => {
    const silent = await serve((req) => req.resume());
    try {
      const retries: string[] = [];
      const c = new SmileClient({
        baseUrl: `${silent.url}/v1`,
        partnerId: '085',
        apiKey: 'k'.repeat(20),
        timeoutMs: 30_000,
        onRetry: ({ reason }) => retries.push(reason),
      });
      const error = await c
        .jobStatus({ userId: 'u', jobId: 'j' }, { signal, deadline: Date.now() + 300 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ code: 'deadline', exitCode: 5, details: { step: 'job status' } });
      expect(retries).toEqual([]);
    } finally {
      await silent.close();
    }
  });

  it('does not sleep for a Retry-After that ends past the deadline', async () => {
    emulator.setFaults({ rateLimitRate: 1, retryAfterSeconds: 30 });
    const retries: number[] = [];
    try {
      const c = client({ onRetry: ({ delayMs }) => retries.push(delayMs) });
      const error = await c
        .jobStatus({ userId: 'u', jobId: 'j' }, { signal, deadline: Date.now() + 2000 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'deadline', details: { last_failure: 'HTTP 429' } });
      expect(retries).toEqual([]);
    } finally {
      emulator.setFaults({});
    }
  });

  it('without a deadline nothing changes: retries still run (bulk semantics)', async () => {
    emulator.setFaults({ errorRate: 1 });
    let retries = 0;
    try {
      const c = client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, onRetry: () => retries++ });
      await expect(c.jobStatus({ userId: 'u', jobId: 'j' }, { signal })).rejects.toMatchObject({ exitCode: 5 });
      expect(retries).toBe(2);
    } finally {
      emulator.setFaults({});
    }
  });

  it('fetchWithTimeout caps bodies (default 1 MiB) and refuses a too-large Content-Length before reading', async () => {
    const big = await serve((req, res) => {
      req.resume();
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
        res.write('x');
        return;
      }
      res.end(Buffer.alloc(2 * 1024 * 1024, 'a'));
    });
    try {
      await expect(fetchWithTimeout(`${big.url}/chunked`, {}, signal, 5000)).rejects.toBeInstanceOf(
        ResponseTooLargeError,
      );
      await expect(
        fetchWithTimeout(`${big.url}/chunked`, {}, signal, 5000, { maxBytes: 4 * 1024 * 1024 }),
      ).resolves.toMatchObject({ text: expect.stringMatching(/^a+$/) });
      await expect(
        fetchWithTimeout(`${big.url}/declared`, {}, signal, 5000, { maxBytes: MAX_RESPONSE_BYTES.jobStatus }),
      ).rejects.toMatchObject({ limit: MAX_RESPONSE_BYTES.jobStatus });
    } finally {
      await big.close();
    }
  });

  it('services (unsigned probe) still follows a redirect; job_status does not', async () => {
    const target = await serve((req, res) => {
      req.resume();
      res.end('{"ok":true}');
    });
    const redirecting = await serve((req, res) => {
      req.resume();
      res.writeHead(302, { location: `${target.url}${req.url ?? '/'}` });
      res.end();
    });
    try {
      const c = new SmileClient({ baseUrl: `${redirecting.url}/v1`, partnerId: '085', apiKey: 'k'.repeat(20) });
      await expect(c.services({ signal })).resolves.toMatchObject({ status: 200 });
      await expect(c.jobStatus({ userId: 'u', jobId: 'j' }, { signal })).rejects.toMatchObject({
        code: 'redirect',
        details: { location_host: new URL(target.url).host },
      });
    } finally {
      await redirecting.close();
      await target.close();
    }
  });
});
