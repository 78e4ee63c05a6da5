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

/** `--shard` as typed: K/N, or auto/N (K from a Kubernetes Indexed Job, read when the run starts). */
export type ShardFlag = Shard | { auto: true; count: number };

/** Parse `K/N` or `auto/N` (`flag` names where it came from: --shard or SMILE_SHARD). */
export function parseShardFlag(value: string, flag = '--shard'): ShardFlag {
  const auto = /^\s*auto\s*\/\s*(\d+)\s*$/i.exec(value);
  if (!auto) {
    try {
      return parseShard(value);
    } catch (error) {
      if (flag === '--shard' || !(error instanceof UsageError)) throw error;
      throw new UsageError(error.message.replace('--shard', flag), {
        hint: `${flag} takes K/N or auto/N, like --shard.`,
      });
    }
  }
  const count = Number(auto[1]);
  if (count < 1) throw new UsageError(`${flag} ${value}: N must be 1 or more, e.g. auto/4 for four pods.`);
  return { auto: true, count };
}

/** The variable a Kubernetes Indexed Job sets in each pod: its index, 0-based. */
export const COMPLETION_INDEX_VARIABLE = 'JOB_COMPLETION_INDEX';

/**
 * The shard of this run: the flag, else SMILE_SHARD, else none. `auto/N` reads the pod's
 * JOB_COMPLETION_INDEX (0 … N-1) and takes shard index + 1 of N (shards are 1-based), so the N
 * pods of an Indexed Job with `completions: N` take every row exactly once between them.
 */
export function resolveShard(flag: ShardFlag | undefined, env: NodeJS.ProcessEnv): Shard | undefined {
  const fromEnv = env['SMILE_SHARD']?.trim();
  const source = flag === undefined ? 'SMILE_SHARD' : '--shard';
  const given = flag ?? (fromEnv ? parseShardFlag(fromEnv, 'SMILE_SHARD') : undefined);
  if (given === undefined || !('auto' in given)) return given;
  const raw = env[COMPLETION_INDEX_VARIABLE];
  const typed = `${source} auto/${given.count}`;
  if (raw === undefined || raw.trim() === '')
    throw new UsageError(`${typed} reads the shard from ${COMPLETION_INDEX_VARIABLE}, which is not set.`, {
      code: 'shard_index_missing',
      hint: `Kubernetes sets it in each pod of a Job with completionMode: Indexed; elsewhere pass --shard K/N (1-based).`,
    });
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) >= given.count)
    throw new UsageError(
      `${typed}: ${COMPLETION_INDEX_VARIABLE}=${JSON.stringify(raw)} is not an index from 0 to ${given.count - 1}.`,
      {
        code: 'shard_index_invalid',
        hint: `Make the Job's completions ${given.count}, the N of auto/${given.count} (pods are numbered 0 … N-1).`,
      },
    );
  return { index: Number(raw) + 1, count: given.count };
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
