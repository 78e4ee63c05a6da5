import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/errors.js';
import {
  MAX_POLLS_PER_MINUTE,
  MAX_SAMPLES,
  MAX_SERVERS,
  MemoryPollTimes,
  POLL_TIMES_FILE_NAME,
  PollPlan,
  defaultIntervalMs,
  learnedWindow,
  pollTimesFile,
  sdkPollAtMs,
  withSample,
} from '../../src/register/schedule.js';
import type { LearnedWindow, PollSample } from '../../src/register/schedule.js';
import { pollJobUntilFinal } from '../../src/register/wait.js';
import type { SmileClient } from '../../src/smile/client.js';
import type { JobStatusResponse } from '../../src/smile/types.js';

/** When each request of one wait goes (ms after the upload) for a job whose result is ready at `readyMs`. */
function simulate(window: LearnedWindow | undefined, readyMs: number, limitMs = 300_000): number[] {
  const plan = new PollPlan(window);
  const times: number[] = [];
  let now = 0;
  while (now <= limitMs) {
    now = plan.nextPollAt(times, now);
    times.push(now);
    if (now >= readyMs) break;
  }
  return times;
}

/** The Node SDK's requests for the same job: at 0, 2, 4, 6, 8 s, then every 4 s, until one sees the result. */
function sdkPolls(readyMs: number): number {
  let count = 1;
  while (sdkPollAtMs(count - 1) < readyMs) count++;
  return count;
}

function maxInAnyMinute(times: readonly number[]): number {
  let most = 0;
  for (let i = 0; i < times.length; i++) {
    let j = i;
    while (j < times.length && times[j]! < times[i]! + 60_000) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

const WINDOWS: LearnedWindow[] = [
  { lo: 1200, hi: 1400 },
  { lo: 3500, hi: 3800 },
  { lo: 6300, hi: 6600 },
  { lo: 10_000, hi: 10_300 },
  { lo: 0, hi: 900 },
  { lo: 20_000, hi: 45_000 },
];

describe('the learned schedule', () => {
  it('waits until results usually arrive, then looks densely: a result in its window is seen within 0.5 s', () => {
    for (const window of WINDOWS.slice(0, 4)) {
      for (let ready = window.lo + 10; ready <= window.hi; ready += 50) {
        const times = simulate(window, ready);
        expect(times.at(-1)! - ready).toBeLessThanOrEqual(Math.max(500, sdkPollAtMs(times.length - 1) - ready));
      }
    }
  });

  it('never sends more job_status requests per job than the SDK, whenever the result comes', () => {
    for (const window of WINDOWS) {
      for (let ready = 1; ready <= 90_000; ready += 97) {
        const times = simulate(window, ready);
        const late = times.at(-1)! > 1.5 * window.hi + 1000;
        // Up to the point where it finds the server much slower than learned (then it is the cold schedule).
        if (!late) expect(times.length).toBeLessThanOrEqual(sdkPolls(ready));
      }
    }
  });

  it('falls back to the cold schedule when results come much later than learned', () => {
    const window = { lo: 6300, hi: 6600 };
    const plan = new PollPlan(window);
    const times = simulate(window, 60_000);
    const limit = 1.5 * window.hi + 1000;
    const after = times.filter((at) => at > limit);
    expect(after.length).toBeGreaterThan(3);
    for (let i = 1; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBe(defaultIntervalMs(after[i - 1]!));
    // Replayed on one plan, the switch is reported.
    const replay: number[] = [];
    for (const at of times) {
      plan.nextPollAt(replay, at);
      replay.push(at);
    }
    plan.nextPollAt(replay, times.at(-1)!);
    expect(plan.fellBack).toBe(true);
  });

  it('forgets what it learned when the server changes speed (much later or much earlier), and keeps learning otherwise', () => {
    const learned: PollSample[] = [
      { pending: 6300, ready: 6500 },
      { pending: 6200, ready: 6600 },
    ];
    expect(learnedWindow(learned)).toEqual({ lo: 6300, hi: 6500 });
    const slower = { pending: 14_000, ready: 14_500 };
    expect(withSample(learned, slower)).toEqual([slower]);
    // Much earlier: the scout look (40% of the way to the first look) already found the result.
    const scout = simulate(learnedWindow(learned), 1000)[0]!;
    const faster = { pending: 0, ready: scout };
    expect(withSample(learned, faster)).toEqual([faster]);
    // The same speed: one more sample, at most MAX_SAMPLES kept.
    let samples = learned;
    for (let i = 0; i < 20; i++) samples = withSample(samples, { pending: 6350, ready: 6450 });
    expect(samples).toHaveLength(MAX_SAMPLES);
    expect(learnedWindow(samples)).toEqual({ lo: 6350, hi: 6450 });
  });
});

describe('bounds and Retry-After', () => {
  it('never sends more than MAX_POLLS_PER_MINUTE requests in any minute, cold, learned or fallen back', () => {
    for (const window of [undefined, ...WINDOWS, { lo: 0, hi: 100 }]) {
      const times = simulate(window, Infinity, 600_000);
      expect(maxInAnyMinute(times)).toBeLessThanOrEqual(MAX_POLLS_PER_MINUTE);
    }
  });

  it('lets Retry-After win over every schedule', () => {
    for (const window of [undefined, ...WINDOWS]) {
      const plan = new PollPlan(window);
      const times = simulate(window, Infinity, 20_000);
      const now = times.at(-1)!;
      expect(plan.nextPollAt(times, now, 30_000)).toBeGreaterThanOrEqual(now + 30_000);
      expect(new PollPlan(window).nextPollAt([], 0, 7000)).toBeGreaterThanOrEqual(7000);
    }
  });
});

describe('pollJobUntilFinal on the schedule (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const pending = {
    job_complete: false,
    job_success: false,
    code: '2314',
    result: null,
  } as unknown as JobStatusResponse;
  const approved = {
    job_complete: true,
    job_success: true,
    code: '2302',
    result: { ResultCode: '0810', ResultText: 'Enroll User' },
  } as unknown as JobStatusResponse;

  /** A stand-in for the server's job_status: `answer(elapsedMs)` says what it answers then; requests are logged. */
  function server(answer: (elapsedMs: number) => JobStatusResponse | Error) {
    const start = Date.now();
    const at: number[] = [];
    const client = {
      jobStatus: () => {
        const elapsed = Date.now() - start;
        at.push(elapsed);
        const value = answer(elapsed);
        return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
      },
    } as unknown as SmileClient;
    return { client, at };
  }

  it('waits out a Retry-After the client gave up on, then goes on with the schedule', async () => {
    const { client, at } = server((elapsed) =>
      elapsed < 600
        ? new ApiError('rate limited', { status: 429, code: 'http_429', retryAfterMs: 5000 })
        : elapsed < 8000
          ? pending
          : approved,
    );
    const signal = new AbortController().signal;
    const waiting = pollJobUntilFinal(client, { userId: 'u', jobId: 'j' }, { timeoutMs: 60_000, signal });
    await vi.runAllTimersAsync();
    const result = await waiting;
    expect(result.outcome).toBe('approved');
    expect(at[0]).toBe(500);
    expect(at[1]).toBeGreaterThanOrEqual(5500);
  });

  it('ends the wait on a 429 that does not say how long to wait (never guesses shorter than the server asked)', async () => {
    const { client, at } = server(() => new ApiError('rate limited', { status: 429, code: '2201' }));
    const signal = new AbortController().signal;
    const waiting = pollJobUntilFinal(client, { userId: 'u', jobId: 'j' }, { timeoutMs: 60_000, signal });
    const settled = expect(waiting).rejects.toMatchObject({ status: 429 });
    await vi.runAllTimersAsync();
    await settled;
    expect(at).toEqual([500]);
  });

  it('learns in a wait and uses it in the next: fewer requests, the result seen as soon', async () => {
    const times = new MemoryPollTimes();
    const signal = new AbortController().signal;
    const run = async () => {
      const { client, at } = server((elapsed) => (elapsed >= 6500 ? approved : pending));
      const waiting = pollJobUntilFinal(client, { userId: 'u', jobId: 'j' }, { timeoutMs: 60_000, signal, times });
      await vi.runAllTimersAsync();
      expect((await waiting).outcome).toBe('approved');
      return at;
    };
    const cold = await run();
    const second = await run();
    const third = await run();
    expect(cold.length).toBeGreaterThan(sdkPolls(6500));
    for (const warm of [second, third]) {
      expect(warm.length).toBeLessThanOrEqual(sdkPolls(6500));
      expect(warm.at(-1)! - 6500).toBeLessThanOrEqual(cold.at(-1)! - 6500);
    }
  });
});

describe('the poll times file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'smile-schedule-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('stays bounded (servers and samples) and holds durations only: no URLs, no ids', async () => {
    for (let server = 0; server < MAX_SERVERS + 10; server++) {
      const times = pollTimesFile(dir, `https://user-${server}.example/v1`, 4);
      for (let i = 0; i < MAX_SAMPLES + 5; i++) await times.record({ pending: 1000 + i, ready: 1500 + i });
    }
    const text = readFileSync(join(dir, POLL_TIMES_FILE_NAME), 'utf8');
    const document = JSON.parse(text) as { servers: Record<string, { used: number; samples: number[][] }> };
    expect(Object.keys(document.servers)).toHaveLength(MAX_SERVERS);
    for (const [key, server] of Object.entries(document.servers)) {
      expect(key).toMatch(/^[0-9a-f]{16}$/);
      expect(server.samples).toHaveLength(MAX_SAMPLES);
      for (const pair of server.samples) expect(pair.every((value) => Number.isInteger(value))).toBe(true);
    }
    expect(text).not.toMatch(/example|https?:|user-/);
    // The most recently used are the ones kept.
    expect(await pollTimesFile(dir, `https://user-${MAX_SERVERS + 9}.example/v1`, 4).samples()).toHaveLength(
      MAX_SAMPLES,
    );
    expect(await pollTimesFile(dir, 'https://user-0.example/v1', 4).samples()).toEqual([]);
    expect(text.length).toBeLessThan(16_000);
  });

  it('a wait leaves only the two durations of its job, whatever its ids', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const times = pollTimesFile(dir, 'https://api.example/v1', 4);
      let calls = 0;
      const client = {
        jobStatus: () =>
          Promise.resolve(
            (++calls < 3
              ? { job_complete: false, job_success: false, code: '2314', result: null }
              : {
                  job_complete: true,
                  job_success: true,
                  code: '2302',
                  result: { ResultCode: '0810' },
                }) as unknown as JobStatusResponse,
          ),
      } as unknown as SmileClient;
      const waiting = pollJobUntilFinal(
        client,
        { userId: 'user-secret-42', jobId: 'job-secret-42' },
        { timeoutMs: 60_000, signal: new AbortController().signal, times },
      );
      // The wait reads and writes the file for real: let that I/O finish before each step of the
      // fake clock, so that every look happens at its planned time however slow the disk is.
      let settled = false;
      void waiting.finally(() => (settled = true));
      const settle = async (): Promise<void> => {
        while (!settled && vi.getTimerCount() === 0) await new Promise((resolve) => setImmediate(resolve));
      };
      await settle();
      while (!settled) {
        await vi.advanceTimersToNextTimerAsync();
        await settle();
      }
      await waiting;
    } finally {
      vi.useRealTimers();
    }
    const text = readFileSync(join(dir, POLL_TIMES_FILE_NAME), 'utf8');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('example');
    expect(Object.values(JSON.parse(text).servers)).toEqual([{ used: 1, samples: [[1000, 1500]] }]);
  });

  it('reads a damaged file as nothing learned, and never fails a wait when it cannot write', async () => {
    writeFileSync(join(dir, POLL_TIMES_FILE_NAME), '{"version":1,"servers":{"zz":1}');
    const times = pollTimesFile(dir, 'https://api.example/v1', 4);
    expect(await times.samples()).toEqual([]);
    const unwritable = pollTimesFile(join(dir, POLL_TIMES_FILE_NAME, 'below-a-file'), 'https://api.example/v1', 4);
    await expect(unwritable.record({ pending: 1, ready: 2 })).resolves.toBeUndefined();
  });
});
