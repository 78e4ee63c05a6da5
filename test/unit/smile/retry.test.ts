import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backoffDelayMs,
  isRetryableFailure,
  mayHaveTakenEffect,
  parseRetryAfter,
  sleep,
} from '../../../src/smile/retry.js';

const policy = { maxAttempts: 5, baseDelayMs: 300, maxDelayMs: 10_000 };

describe('isRetryableFailure', () => {
  it.each([
    [{ kind: 'transport', mayHaveReachedServer: true } as const, true],
    [{ kind: 'timeout' } as const, true],
    [{ kind: 'http', status: 408 } as const, true],
    [{ kind: 'http', status: 429 } as const, true],
    [{ kind: 'http', status: 500 } as const, true],
    [{ kind: 'http', status: 503 } as const, true],
    [{ kind: 'http', status: 400 } as const, false],
    [{ kind: 'http', status: 401 } as const, false],
    [{ kind: 'http', status: 403 } as const, false],
    [{ kind: 'http', status: 404 } as const, false],
  ])('%j → %s', (failure, expected) => {
    expect(isRetryableFailure(failure, 'idempotent')).toBe(expected);
    expect(isRetryableFailure(failure, 'prep-upload')).toBe(expected);
    expect(isRetryableFailure(failure, 'none')).toBe(false);
  });
});

describe('mayHaveTakenEffect', () => {
  it('treats refusals before work as safe and lost answers as ambiguous', () => {
    expect(mayHaveTakenEffect({ kind: 'http', status: 429 })).toBe(false);
    expect(mayHaveTakenEffect({ kind: 'http', status: 408 })).toBe(false);
    expect(mayHaveTakenEffect({ kind: 'http', status: 502 })).toBe(true);
    expect(mayHaveTakenEffect({ kind: 'timeout' })).toBe(true);
    expect(mayHaveTakenEffect({ kind: 'transport', mayHaveReachedServer: false })).toBe(false);
    expect(mayHaveTakenEffect({ kind: 'transport', mayHaveReachedServer: true })).toBe(true);
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially with jitter between half and all of the step', () => {
    expect(backoffDelayMs(policy, 1, undefined, () => 0)).toBe(150);
    expect(backoffDelayMs(policy, 1, undefined, () => 1)).toBe(300);
    expect(backoffDelayMs(policy, 3, undefined, () => 0)).toBe(600);
    expect(backoffDelayMs(policy, 3, undefined, () => 1)).toBe(1200);
  });
  it('is capped', () => {
    expect(backoffDelayMs(policy, 20, undefined, () => 1)).toBe(10_000);
  });
  it('never waits less than Retry-After', () => {
    expect(backoffDelayMs(policy, 1, 5000, () => 0)).toBe(5000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2025-06-01T10:00:00Z');
    expect(parseRetryAfter('Sun, 01 Jun 2025 10:00:03 GMT', now)).toBe(3000);
  });
  it('ignores garbage and caps silly values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('999999')).toBe(600_000);
  });
});

describe('sleep', () => {
  afterEach(() => vi.useRealTimers());
  it('resolves after the delay (fake timers)', async () => {
    vi.useFakeTimers();
    let done = false;
    const pending = sleep(1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(done).toBe(true);
  });
  it('rejects at once when aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});
