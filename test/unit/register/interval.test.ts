import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { MIN_POLL_INTERVAL_MS, parsePollInterval } from '../../../src/parse.js';
import { MAX_POLLS_PER_MINUTE, PollPlan } from '../../../src/register/schedule.js';

/** The looks a plan makes when every answer is pending and comes back at once. */
function looks(plan: PollPlan, count: number): number[] {
  const at: number[] = [];
  for (let i = 0; i < count; i++) at.push(plan.nextPollAt(at, at.at(-1) ?? 0));
  return at;
}

describe('--interval: a fixed schedule (PollPlan fixedIntervalMs)', () => {
  it('looks every interval from the upload on, instead of the cold schedule', () => {
    expect(looks(new PollPlan(undefined, { fixedIntervalMs: 5000 }), 4)).toEqual([5000, 10000, 15000, 20000]);
    // Without it: the cold schedule (500 ms first).
    expect(looks(new PollPlan(undefined), 1)).toEqual([500]);
  });

  it('replaces a learned window too (the learned looks are not used)', () => {
    const plan = new PollPlan({ lo: 1000, hi: 2000 }, { fixedIntervalMs: 3000 });
    expect(plan.window).toBeUndefined();
    expect(looks(plan, 3)).toEqual([3000, 6000, 9000]);
  });

  it('is still bounded per minute: never more than MAX_POLLS_PER_MINUTE in any 60 s', () => {
    // The parser refuses intervals this short; the plan keeps the bound whatever it is given.
    const at = looks(new PollPlan(undefined, { fixedIntervalMs: 100 }), MAX_POLLS_PER_MINUTE + 5);
    for (let i = MAX_POLLS_PER_MINUTE; i < at.length; i++)
      expect(at[i]! - at[i - MAX_POLLS_PER_MINUTE]!).toBeGreaterThanOrEqual(60_000);
  });

  it('lets Retry-After win over the interval', () => {
    const plan = new PollPlan(undefined, { fixedIntervalMs: 2000 });
    expect(plan.nextPollAt([2000], 2100, 30_000)).toBe(32_100);
    expect(plan.nextPollAt([2000], 2100, 100)).toBe(4000);
  });
});

describe('parsePollInterval', () => {
  it('takes durations of 2s and more', () => {
    expect(parsePollInterval('2s')).toEqual({ text: '2s', ms: MIN_POLL_INTERVAL_MS });
    expect(parsePollInterval('1m').ms).toBe(60_000);
  });

  it('refuses shorter ones and non-durations with a usage error naming the floor', () => {
    expect(() => parsePollInterval('500ms')).toThrow(UsageError);
    expect(() => parsePollInterval('1s')).toThrow(/--interval 1s is too short: looks go at most every 2s/);
    expect(() => parsePollInterval('often')).toThrow(/--interval takes a duration/);
  });
});
