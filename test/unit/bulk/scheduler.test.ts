import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { JournalRecord } from '../../../src/bulk/journal.js';
import type { RowResult } from '../../../src/bulk/row-result.js';
import type { BulkRow } from '../../../src/bulk/input.js';
import { BulkScheduler, PollPacer, Semaphore } from '../../../src/bulk/scheduler.js';
import { startEmulator } from '../../../src/emulator/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { loadSelfieForUpload } from '../../../src/selfie/check.js';
import { SmileClient } from '../../../src/smile/client.js';
import { until } from '../../helpers/wait-for.js';

describe('Semaphore', () => {
  it('hands out permits first come, first served', async () => {
    const semaphore = new Semaphore(1);
    const order: number[] = [];
    await semaphore.acquire();
    const waiting = [1, 2, 3].map((n) => semaphore.acquire().then(() => order.push(n)));
    semaphore.release();
    await waiting[0];
    semaphore.release();
    await waiting[1];
    semaphore.release();
    await waiting[2];
    expect(order).toEqual([1, 2, 3]);
  });

  it('gives up a wait when the run is aborted, without losing the permit', async () => {
    const semaphore = new Semaphore(1);
    const controller = new AbortController();
    await semaphore.acquire();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ exitCode: 130 });
    semaphore.release();
    expect(semaphore.free).toBe(1);
  });
});

describe('PollPacer', () => {
  it('uses the cold schedule until it has seen a few jobs, then looks where results arrive (the learned schedule register keeps)', () => {
    const pacer = new PollPacer();
    for (let i = 0; i < PollPacer.MIN_SAMPLES - 1; i++) pacer.observe(1200);
    expect(pacer.firstDelayMs()).toBe(0);
    pacer.observe(1200);
    // No look has missed yet: 90% into (800, 1200], a third below the earliest result.
    expect(pacer.firstDelayMs()).toBe(1160);
    // A first look at 1160 that missed (the result came a cold interval later) narrows the window.
    pacer.observe(1700, 1160);
    expect(pacer.firstDelayMs()).toBe(1196);
    // Much faster: what was learned is forgotten.
    for (let i = 0; i < 50; i++) pacer.observe(500);
    expect(pacer.firstDelayMs()).toBeLessThan(500);
    for (let i = 0; i < 50; i++) pacer.observe(10 * 60_000);
    expect(pacer.firstDelayMs()).toBe(PollPacer.MAX_DELAY_MS);
  });
});

describe('BulkScheduler', () => {
  let emulator: RunningEmulator;
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0, processingMs: 300 });
  });
  afterEach(async () => {
    await emulator.close();
  });

  function rows(count: number): BulkRow[] {
    return Array.from({ length: count }, (_, index) => ({
      line: index + 2,
      userId: `s-${index}`,
      jobId: undefined,
      selfiePath: resolve('fixtures/selfies/demo.jpg'),
      livenessPaths: [],
      params: {},
      callbackUrl: undefined,
      allowReEnroll: false,
      useEnrolledImage: false,
      geo: undefined,
      sandboxResult: undefined,
      raw: [],
    }));
  }

  it('decouples submission from waiting: one worker keeps submitting while earlier jobs wait', async () => {
    // No job finishes until every row is submitted, however slow this machine is (a race against a
    // 300 ms processing time failed under load): the results are released by the test.
    const held = await startEmulator({ port: 0, processingMs: 600_000 });
    onTestFinished(() => held.close());
    const client = new SmileClient({
      baseUrl: held.baseUrl,
      partnerId: held.partnerId,
      apiKey: held.apiKey,
    });
    const records: JournalRecord[] = [];
    const results: RowResult[] = [];
    let maxWaiting = 0;
    let jobs = 0;
    const scheduler = new BulkScheduler(
      { concurrency: 1, wait: true, timeoutMs: 30_000, ifEnrolled: 'fail', callbackUrl: undefined },
      {
        client,
        environment: 'sandbox',
        signal: new AbortController().signal,
        loadSelfie: loadSelfieForUpload,
        journal: { append: async (record) => void records.push(record) },
        newJobId: () => `job-${++jobs}`,
        onResult: (result) => results.push(result),
      },
    );
    for (const row of rows(5)) {
      await scheduler.add(row, undefined);
      maxWaiting = Math.max(maxWaiting, scheduler.waiting);
    }
    // Every zip has landed and nothing is final yet; now the server finishes them all.
    await until(
      () => ([...held.state.jobs.values()].filter((job) => job.readyAt !== null).length === 5 ? true : undefined),
      'five uploaded jobs',
    );
    // The view is read-only for assertions; here the test plays the server's clock on purpose.
    for (const job of held.state.jobs.values()) Object.assign(job, { readyAt: Date.now() });
    await scheduler.drain();
    expect(results.map((result) => result.outcome)).toEqual([
      'approved',
      'approved',
      'approved',
      'approved',
      'approved',
    ]);
    // With a single worker, later rows were submitted while earlier jobs were still being polled.
    expect(maxWaiting).toBeGreaterThan(1);
    // The journal: pin before prepared before uploaded before final, for every row.
    for (const line of [2, 3, 4, 5, 6]) {
      expect(records.filter((record) => 'line' in record && record.line === line).map((record) => record.t)).toEqual([
        'pin',
        'prepared',
        'uploaded',
        'final',
      ]);
    }
  });
});
