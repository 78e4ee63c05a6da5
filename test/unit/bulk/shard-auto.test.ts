import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { inShard, parseShardFlag, resolveShard } from '../../../src/bulk/shard.js';

describe('--shard auto/N and SMILE_SHARD', () => {
  it('parses K/N as before and auto/N as a shard to read at run time', () => {
    expect(parseShardFlag('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShardFlag('auto/4')).toEqual({ auto: true, count: 4 });
    expect(parseShardFlag(' AUTO / 3 ')).toEqual({ auto: true, count: 3 });
    expect(() => parseShardFlag('auto/0')).toThrow(/N must be 1 or more/);
    expect(() => parseShardFlag('auto')).toThrow(/--shard takes K\/N/);
  });

  it("maps the pod's JOB_COMPLETION_INDEX (0-based) to shard index + 1 (1-based)", () => {
    const shards = [0, 1, 2, 3].map((index) =>
      resolveShard({ auto: true, count: 4 }, { JOB_COMPLETION_INDEX: String(index) }),
    );
    expect(shards).toEqual([
      { index: 1, count: 4 },
      { index: 2, count: 4 },
      { index: 3, count: 4 },
      { index: 4, count: 4 },
    ]);
    // Together the four pods take every user_id exactly once.
    for (const id of ['u-1', 'u-2', 'Zoë', '42', 'user-3f0c7a3e'])
      expect(shards.filter((shard) => inShard(id, shard))).toHaveLength(1);
  });

  it('refuses a missing or invalid index with a usage error (exit 2) that says what to do', () => {
    const auto = { auto: true as const, count: 4 };
    for (const env of [{}, { JOB_COMPLETION_INDEX: '' }]) {
      const error = (() => {
        try {
          resolveShard(auto, env);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
      expect((error as UsageError).message).toMatch(
        /--shard auto\/4 reads the shard from JOB_COMPLETION_INDEX, which is not set/,
      );
      expect((error as UsageError).hint).toMatch(/completionMode: Indexed/);
    }
    for (const bad of ['4', '-1', 'one', '1.5'])
      expect(() => resolveShard(auto, { JOB_COMPLETION_INDEX: bad })).toThrow(/is not an index from 0 to 3/);
  });

  it('SMILE_SHARD is the twin of --shard; the flag wins', () => {
    expect(resolveShard(undefined, { SMILE_SHARD: '3/5' })).toEqual({ index: 3, count: 5 });
    expect(resolveShard(undefined, { SMILE_SHARD: 'auto/2', JOB_COMPLETION_INDEX: '1' })).toEqual({
      index: 2,
      count: 2,
    });
    expect(resolveShard({ index: 1, count: 2 }, { SMILE_SHARD: '3/5' })).toEqual({ index: 1, count: 2 });
    expect(resolveShard(undefined, {})).toBeUndefined();
    expect(resolveShard(undefined, { SMILE_SHARD: ' ' })).toBeUndefined();
    expect(() => resolveShard(undefined, { SMILE_SHARD: '9/4' })).toThrow(/SMILE_SHARD 9\/4/);
    expect(() => resolveShard(undefined, { SMILE_SHARD: 'auto/4' })).toThrow(/SMILE_SHARD auto\/4 reads the shard/);
  });
});
