import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import type { RunningEmulator } from '../../../src/emulator/index.js';
import { pollJobUntilFinal } from '../../../src/register/wait.js';
import { MAX_INTERVAL_MS, PollPlan } from '../../../src/register/schedule.js';
import { runRegistration } from '../../../src/register/pipeline.js';
import { loadSelfieForUpload } from '../../../src/selfie/check.js';
import { SmileClient } from '../../../src/smile/client.js';

/** The cold schedule's request times (ms after the upload) up to `untilMs`. */
function coldTimes(untilMs: number): number[] {
  const plan = new PollPlan(undefined);
  const times: number[] = [];
  for (let at = plan.nextPollAt(times, 0); at <= untilMs; at = plan.nextPollAt(times, at)) times.push(at);
  return times;
}

describe('the cold schedule', () => {
  it('looks every 500 ms, then every 10% of the time waited, capped at 4 s', () => {
    const times = coldTimes(120_000);
    expect(times.slice(0, 4)).toEqual([500, 1000, 1500, 2000]);
    const gaps = times.slice(1).map((at, i) => at - times[i]!);
    expect(Math.max(...gaps)).toBe(MAX_INTERVAL_MS);
    // A result is seen at most 10% (or 500 ms) after it is ready.
    for (const [i, gap] of gaps.entries()) expect(gap).toBeLessThanOrEqual(Math.max(500, 0.1 * times[i]!) + 1);
  });
  it('spends about 60 requests on the default 120 s wait (never more than 40 in a minute)', () => {
    const times = coldTimes(120_000);
    expect(times.length).toBeGreaterThan(50);
    expect(times.length).toBeLessThan(70);
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
    const fitting = coldTimes(waited + 2 * polls.length).length;
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
