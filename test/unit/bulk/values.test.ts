import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { checkConcurrency, checkMaxAttempts, checkRate } from '../../../src/bulk/values.js';

describe('bulk flag checks', () => {
  it('--concurrency: 1 to 256, past that it points at --rate', () => {
    expect(checkConcurrency(1)).toBe(1);
    expect(checkConcurrency(256)).toBe(256);
    expect(() => checkConcurrency(0)).toThrow('--concurrency takes a whole number of at least 1.');
    expect(() => checkConcurrency(257)).toThrow(
      expect.objectContaining({
        message: '--concurrency 257 is more than 256.',
        hint: expect.stringMatching(/--rate/),
      }),
    );
  });

  it('--rate: above 0', () => {
    expect(checkRate(0.5)).toBe(0.5);
    for (const bad of [0, -1, Number.NaN]) expect(() => checkRate(bad)).toThrow(UsageError);
  });

  it('--max-attempts: at least 1', () => {
    expect(checkMaxAttempts(1)).toBe(1);
    expect(() => checkMaxAttempts(0)).toThrow('--max-attempts takes a whole number of at least 1.');
  });
});
