import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { POLL_CAP_MS, pollDelayMs, pollJobUntilFinal } from '../../../src/register/wait.js';
import { runRegistration } from '../../../src/register/pipeline.js';
import { loadSelfieForUpload } from '../../../src/selfie/check.js';
import { SmileClient } from '../../../src/smile/client.js';

describe('pollDelayMs', () => {
  it('starts fast, backs off by 1.5×, and is capped', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(pollDelayMs)).toEqual([250, 375, 563, 844, 1266, 1898, 2848, 4000]);
    expect(pollDelayMs(50)).toBe(POLL_CAP_MS);
  });
  it('spends about 35 requests on the default 120 s wait', () => {
    let elapsed = 0;
    let polls = 0;
    while (elapsed < 120_000) elapsed += pollDelayMs(polls++);
    expect(polls).toBeGreaterThan(30);
    expect(polls).toBeLessThan(40);
  });
});

describe('pollJobUntilFinal and runRegistration', () => {
  let emulator: RunningEmulator;
  let client: SmileClient;
  const signal = new AbortController().signal;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, processingMs: 600 });
    client = new SmileClient({ baseUrl: emulator.baseUrl, partnerId: emulator.partnerId, apiKey: emulator.apiKey });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('registers and waits: a handful of polls, the approved result', async () => {
    const events: { type: string; at: number; outcome?: string }[] = [];
    const result = await runRegistration(
      { userId: 'w-1', jobId: 'w-job-1', selfiePath: 'fixtures/selfies/demo.jpg', wait: true, timeoutMs: 10_000 },
      {
        client,
        environment: 'sandbox',
        signal,
        loadSelfie: loadSelfieForUpload,
        onEvent: (event) =>
          void events.push({
            type: event.type,
            at: Date.now(),
            ...(event.type === 'poll' ? { outcome: event.outcome } : {}),
          }),
      },
    );
    expect(result.outcome).toBe('approved');
    expect(events.slice(0, 4).map((event) => event.type)).toEqual(['checked', 'prep-upload', 'prepared', 'uploaded']);
    // Polled while pending, stopped at the first final answer.
    const polls = events.filter((event) => event.type === 'poll');
    expect(polls.map((poll) => poll.outcome)).toEqual([...polls.slice(1).map(() => 'pending'), 'approved']);
    // A handful, by the schedule: no more polls than its delays fit into the time the wait took,
    // however slow the machine (a timer may fire a millisecond early, hence the 2 ms per delay).
    const waited = polls.at(-1)!.at - events[3]!.at;
    let fitting = 0;
    for (let spent = pollDelayMs(0) - 2; spent <= waited; spent += pollDelayMs(fitting) - 2) fitting++;
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(polls.length).toBeLessThanOrEqual(fitting);
  });

  it('returns the last status as pending when the timeout runs out', async () => {
    const slow = await startEmulator({ port: 0, processingMs: 60_000 });
    try {
      const slowClient = new SmileClient({ baseUrl: slow.baseUrl, partnerId: slow.partnerId, apiKey: slow.apiKey });
      const result = await runRegistration(
        { userId: 'w-2', jobId: 'w-job-2', selfiePath: 'fixtures/selfies/demo.jpg', wait: true, timeoutMs: 700 },
        { client: slowClient, environment: 'sandbox', signal, loadSelfie: loadSelfieForUpload },
      );
      expect(result).toMatchObject({ outcome: 'pending', timedOut: true });
      const again = await pollJobUntilFinal(
        slowClient,
        { userId: 'w-2', jobId: 'w-job-2' },
        { timeoutMs: 0, signal, immediate: true },
      );
      expect(again).toMatchObject({ outcome: 'pending', polls: 1, timedOut: true });
    } finally {
      await slow.close();
    }
  });
});
