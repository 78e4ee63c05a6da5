import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOf } from '../../../src/bulk/shard.js';

describe('shards', () => {
  it('parses K/N, 1-based', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/4', '5/4', '1/0', '2', 'a/b', '-1/2']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });

  it('is stable: the same user_id always lands in the same shard (pinned values)', () => {
    // Pinned, so that a change of hash (which would re-split imports already running) fails loudly.
    const ids = ['u-1', 'u-2', 'user-3f0c7a3e', 'Zoë', '42'];
    expect(ids.map((id) => shardOf(id, 4))).toEqual([1, 4, 3, 4, 3]);
    // The documented rule: the first 48 bits of SHA-256(user_id), modulo N, plus one.
    for (const id of ids)
      expect(shardOf(id, 7)).toBe((createHash('sha256').update(id).digest().readUIntBE(0, 6) % 7) + 1);
    expect(shardOf('u-1', 1)).toBe(1);
    expect(shardOf('', 7)).toBe(1);
  });

  it('puts every user_id in exactly one shard, spread evenly', () => {
    const count = 4;
    const sizes = new Array<number>(count).fill(0);
    const notInExactlyOne: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const id = `user-${i}`;
      const owners = [1, 2, 3, 4].filter((index) => inShard(id, { index, count }));
      // One assertion for all 4,000 ids (4,000 expect() calls cost more than the hashing).
      if (owners.length !== 1) notInExactlyOne.push(`${id}: ${owners.join(',') || 'none'}`);
      else sizes[owners[0]! - 1]!++;
    }
    expect(notInExactlyOne).toEqual([]);
    for (const size of sizes) expect(size).toBeGreaterThan(850);
    expect(inShard('anything', undefined)).toBe(true);
  });
});
