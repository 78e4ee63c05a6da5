import { afterEach, describe, expect, it } from 'vitest';
import { FaultInjector, seededRandom } from '../../../src/emulator/faults.js';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.js';
import { ids, jobStatus, makeZip, prepUpload, putZip, waitForResult } from './helpers.js';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('FaultInjector', () => {
  it('repeats the same decisions for the same seed', () => {
    const a = new FaultInjector({ errorRate: 0.3, dropRate: 0.2, rateLimitRate: 0.1, dropAfterWorkRate: 0.2, seed: 7 });
    const b = new FaultInjector({ errorRate: 0.3, dropRate: 0.2, rateLimitRate: 0.1, dropAfterWorkRate: 0.2, seed: 7 });
    const seqA = Array.from({ length: 200 }, () => a.decide());
    const seqB = Array.from({ length: 200 }, () => b.decide());
    expect(seqA).toEqual(seqB);
    expect(seqA.some((d) => d.error)).toBe(true);
    expect(seqA.some((d) => d.drop)).toBe(true);
    expect(seqA.some((d) => d.rateLimit)).toBe(true);
    expect(seqA.some((d) => d.dropAfterWork)).toBe(true);
    expect(seqA.every((d) => [d.drop, d.rateLimit, d.error, d.dropAfterWork].filter(Boolean).length <= 1)).toBe(true);
  });

  it('spreads a rate roughly as asked and injects nothing by default', () => {
    const random = seededRandom(1);
    const values = Array.from({ length: 1000 }, random);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const injector = new FaultInjector({ errorRate: 0.25, seed: 3 });
    const errors = Array.from({ length: 2000 }, () => injector.decide()).filter((d) => d.error).length;
    expect(errors).toBeGreaterThan(400);
    expect(errors).toBeLessThan(600);
    const none = new FaultInjector();
    expect(
      Array.from({ length: 100 }, () => none.decide()).some((d) => d.error || d.drop || d.rateLimit || d.dropAfterWork),
    ).toBe(false);
  });
});

describe('fault injection over HTTP', () => {
  it('errorRate answers 500 {code 2201, System Error} on upload, PUT and job_status', async () => {
    emu = await startEmulator({ processingMs: 1 });
    const { userId, jobId } = ids();
    const prep = await prepUpload(emu, { userId, jobId });
    emu.setFaults({ errorRate: 1 });
    const failed = await prepUpload(emu, ids());
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ code: '2201', error: 'System Error' });
    expect((await putZip(prep.body.upload_url, makeZip())).status).toBe(500);
    expect(emu.state.jobs.get(jobId)?.zip).toBeNull();
    expect((await jobStatus(emu, userId, jobId)).status).toBe(500);
    expect(emu.state.requests.filter((r) => r.fault === 'error')).toHaveLength(3);
    // Unfaulted routes stay up.
    expect((await fetch(`${emu.baseUrl}/services`)).status).toBe(200);
  });

  it('rateLimitRate answers 429 with Retry-After', async () => {
    emu = await startEmulator({ faults: { rateLimitRate: 1, retryAfterSeconds: 7 } });
    const res = await prepUpload(emu, ids());
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body).toMatchObject({ code: '2201' });
    expect(emu.state.requests.at(-1)).toMatchObject({ status: 429, fault: 'rate_limit' });
  });

  it('dropRate destroys the socket before any work', async () => {
    emu = await startEmulator({ faults: { dropRate: 1 } });
    const { userId, jobId } = ids();
    await expect(prepUpload(emu, { userId, jobId })).rejects.toThrow();
    expect(emu.state.jobs.has(jobId)).toBe(false);
    expect(emu.state.prepUploadCount(userId, jobId)).toBe(1);
    expect(emu.state.requests.at(-1)).toMatchObject({ status: 0, fault: 'drop', jobId });
  });

  it('dropAfterWorkRate: the prep upload takes effect but the answer never comes; 2215 then retry:true recovers', async () => {
    emu = await startEmulator({ processingMs: 1, faults: { dropAfterWorkRate: 1 } });
    const { userId, jobId } = ids();
    await expect(prepUpload(emu, { userId, jobId })).rejects.toThrow();
    const job = emu.state.jobs.get(jobId);
    expect(job?.status).toBe('awaiting_zip');
    emu.setFaults({});
    const again = await prepUpload(emu, { userId, jobId });
    expect(again.body).toMatchObject({ code: '2215' });
    const retried = await prepUpload(emu, { userId, jobId, extra: { retry: true } });
    expect(retried.status).toBe(200);
    expect(retried.body.smile_job_id).toBe(job?.smileJobId);
    expect(emu.state.prepUploadCount(userId, jobId)).toBe(3);
  });

  it('dropAfterWorkRate on the PUT: the zip is stored although the client hears nothing', async () => {
    emu = await startEmulator({ processingMs: 1 });
    const { userId, jobId } = ids();
    const prep = await prepUpload(emu, { userId, jobId });
    emu.setFaults({ dropAfterWorkRate: 1 });
    await expect(putZip(prep.body.upload_url, makeZip())).rejects.toThrow();
    expect(emu.state.jobs.get(jobId)?.zip).not.toBeNull();
    emu.setFaults({});
    expect((await prepUpload(emu, { userId, jobId, extra: { retry: true } })).body).toMatchObject({ code: '2215' });
    expect((await waitForResult(emu, userId, jobId)).job_success).toBe(true);
  });

  it('latencyMs delays but still answers; setFaults with the same seed repeats the pattern', async () => {
    emu = await startEmulator({ faults: { latencyMs: 5 } });
    expect((await prepUpload(emu, ids())).status).toBe(200);
    const pattern = async (): Promise<number[]> => {
      emu?.setFaults({ errorRate: 0.5, seed: 99 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await prepUpload(emu as RunningEmulator, ids())).status);
      return statuses;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);
  });
});

describe('Date header and clock skew', () => {
  it('every response carries a Date header; clockSkewMs skews it and the signed timestamps', async () => {
    const skew = 60 * 60 * 1000;
    emu = await startEmulator({ clockSkewMs: skew, processingMs: 1 });
    const services = await fetch(`${emu.baseUrl}/services`);
    const date = Date.parse(services.headers.get('date') ?? '');
    // Generous tolerance: this checks the direction and size of the skew, not timing.
    expect(Math.abs(date - (Date.now() + skew))).toBeLessThan(5 * 60 * 1000);
    // Requests signed with the real clock are an hour off the emulator's clock: outside the ±15 min window.
    const { userId, jobId } = ids();
    expect((await prepUpload(emu, { userId, jobId })).status).toBe(401);
    const prep = await prepUpload(emu, { userId, jobId, now: new Date(Date.now() + skew) });
    expect(prep.status).toBe(200);
    const missing = await fetch(`${emu.origin}/nope`);
    expect(missing.headers.get('date')).toBeTruthy();
    const bad = await fetch(prep.body.upload_url, { method: 'PUT', body: 'x' });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('date')).toBeTruthy();
  });
});

describe('a long-running emulator', () => {
  it('keeps only the most recent requests (and callbacks), so memory does not grow with traffic', async () => {
    const small = await startEmulator({ port: 0, historyLimit: 20 });
    try {
      for (let i = 0; i < 60; i++) await (await fetch(`${small.baseUrl}/services?n=${i}`)).text();
      expect(small.state.requests.length).toBeGreaterThanOrEqual(20);
      expect(small.state.requests.length).toBeLessThanOrEqual(25);
      expect(small.state.requests.at(-1)!.path).toBe('/v1/services');
    } finally {
      await small.close();
    }
  });
});
