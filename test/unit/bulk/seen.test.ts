import { describe, expect, it } from 'vitest';
import { SeenUserIds } from '../../../src/bulk/seen.js';

describe('SeenUserIds', () => {
  it('returns the first line of a user_id seen before, and nothing for a new one', () => {
    const seen = new SeenUserIds(4);
    expect(seen.firstLine('u-1', 2)).toBeUndefined();
    expect(seen.firstLine('u-2', 3)).toBeUndefined();
    expect(seen.firstLine('u-1', 9)).toBe(2);
    expect(seen.firstLine('U-1', 10)).toBeUndefined();
    expect(seen.size).toBe(3);
  });

  it('stays exact while it grows through 100,000 ids', () => {
    const seen = new SeenUserIds(16);
    let falseDuplicates = 0;
    for (let i = 0; i < 100_000; i++) if (seen.firstLine(`user-${i}`, i + 2) !== undefined) falseDuplicates++;
    expect(falseDuplicates).toBe(0);
    for (let i = 0; i < 100_000; i += 997) expect(seen.firstLine(`user-${i}`, 200_000)).toBe(i + 2);
    expect(seen.size).toBe(100_000);
  });
});
