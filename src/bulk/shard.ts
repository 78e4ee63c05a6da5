import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

/** `--shard K/N`: this machine takes shard K (1-based) of N. */
export interface Shard {
  index: number;
  count: number;
}

/** Parse `K/N` (1 ≤ K ≤ N). */
export function parseShard(value: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!match) throw new UsageError(`--shard takes K/N, e.g. 2/4 for the second of four machines, not "${value}".`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count)
    throw new UsageError(`--shard ${value}: K must be between 1 and N (1-based), e.g. 1/4 … 4/4.`);
  return { index, count };
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/**
 * The 1-based shard of a user_id among `count`: the first 48 bits of SHA-256 of its UTF-8 bytes,
 * modulo `count`. Stable across machines, Node versions and runs, so N machines can split one
 * file without talking to each other. Rows without a user_id belong to shard 1 (so each is
 * reported by exactly one machine).
 */
export function shardOf(userId: string, count: number): number {
  if (count <= 1 || userId === '') return 1;
  const digest = createHash('sha256').update(userId, 'utf8').digest();
  return (digest.readUIntBE(0, 6) % count) + 1;
}

export function inShard(userId: string, shard: Shard | undefined): boolean {
  return shard === undefined || shardOf(userId, shard.count) === shard.index;
}
