import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomically } from '../fs/atomic.js';
import { DIR_MODE, FILE_MODE } from '../config/paths.js';

/**
 * When to ask job_status, learned from how long jobs take on this server.
 *
 * Cold (nothing learned): the first look 500 ms after the upload, then every max(500 ms, 10% of
 * the time waited so far) up to 4 s: a result is seen at most 10% (or 500 ms) after it is ready.
 *
 * Warm: every wait remembers when its job was last seen pending and when first seen final (two
 * durations since the upload, nothing else). The window (lo, hi] over the last few jobs is where
 * results arrive here: the looks go inside it (see learnedLooks), densely when the pace allows.
 * A warm wait never sends more job_status requests than the official Node SDK would for the same
 * job: its n-th request is never earlier than the SDK's n-th (at 0, 2, 4, 6, 8 s, then every 4 s
 * after the upload), which holds whatever the job's real time turns out to be. When results take
 * 4 s or more, one scout look goes at 40% of the first (paid for by the SDK's request at 0 s): it
 * notices a server that became much faster.
 *
 * A server that became much slower (still pending past 1.5 × hi + 1 s) or much faster (final
 * before half of lo) is forgotten: that wait goes on with the cold schedule and the next ones
 * learn again. Every schedule sends at most 40 requests in any minute, and a Retry-After always
 * wins over the schedule.
 */
export const DEFAULT_FIRST_POLL_MS = 500;
export const DEFAULT_MIN_INTERVAL_MS = 500;
export const DEFAULT_INTERVAL_SHARE = 0.1;
export const MAX_INTERVAL_MS = 4000;
export const MAX_POLLS_PER_MINUTE = 40;
/** Where in the learned window the first of two looks goes. */
export const LEARNED_FIRST_SHARE = 0.7;
export const DENSE_MIN_MS = 100;
export const DENSE_MAX_MS = 500;
/** Jobs remembered per server and job type. */
export const MAX_SAMPLES = 8;
/** Servers (base URL + job type) remembered; the least recently used go first. */
export const MAX_SERVERS = 32;
/** Durations are kept in whole ms, at most this (longer waits teach nothing useful). */
export const MAX_DURATION_MS = 10 * 60_000;
export const POLL_TIMES_FILE_NAME = 'poll-times.json';

/** The n-th (0-based) job_status request of the Node SDK's `submit_job` with `return_job_status`, in ms after the zip PUT. */
export function sdkPollAtMs(index: number): number {
  return index < 5 ? 2000 * index : 8000 + 4000 * (index - 4);
}

/** The cold schedule's gap after a look at `elapsedMs`. */
export function defaultIntervalMs(elapsedMs: number): number {
  return Math.round(Math.min(MAX_INTERVAL_MS, Math.max(DEFAULT_MIN_INTERVAL_MS, DEFAULT_INTERVAL_SHARE * elapsedMs)));
}

/** One finished wait: ms after the upload when the job was last seen pending (0: never) and first seen final. */
export interface PollSample {
  pending: number;
  ready: number;
}

/** Where results arrive here: after `lo`, by `hi` (ms after the upload). */
export interface LearnedWindow {
  lo: number;
  hi: number;
}

/**
 * The window over the remembered samples: hi = the earliest a result has been seen, lo = the
 * latest a job was still seen pending before that. With no pending look below hi, lo is a third
 * below hi: each first look that finds the result moves hi earlier, until one finds the job
 * pending and gives lo.
 */
export function learnedWindow(samples: readonly PollSample[]): LearnedWindow | undefined {
  if (samples.length === 0) return undefined;
  const hi = Math.min(...samples.map((sample) => sample.ready));
  const below = samples.map((sample) => sample.pending).filter((pending) => pending > 0 && pending < hi);
  const lo = below.length > 0 ? Math.max(...below) : hi - hi / 3;
  return { lo: Math.max(0, lo), hi };
}

/** Where the only look a wait can afford goes inside the learned window (late: a miss is costly). */
export const SINGLE_LOOK_SHARE = 0.9;

/** Where a look goes `share` of the way into the learned window. */
export function learnedFirstPollMs(window: LearnedWindow, share = SINGLE_LOOK_SHARE): number {
  return Math.round(window.lo + share * (window.hi - window.lo));
}

/** How many of the SDK's requests have gone by `elapsedMs`. */
export function sdkPollsBy(elapsedMs: number): number {
  let count = 0;
  while (sdkPollAtMs(count) <= elapsedMs) count++;
  return count;
}

/**
 * A learned wait's looks. The SDK's pace allows k looks by the middle of the window (one fewer
 * when a scout goes first, which it does only when that leaves two or more): with one, it goes
 * late in the window (90%: a miss waits for the SDK's next slot); with more, they spread from the
 * middle (k = 2: from 70%) to the end of the window.
 */
export function learnedLooks(window: LearnedWindow): { first: number; dense: number; scout: number | undefined } {
  const width = window.hi - window.lo;
  const middle = window.lo + width / 2;
  const scouted = sdkPollsBy(middle) >= 3;
  const looks = sdkPollsBy(middle) - (scouted ? 1 : 0);
  const share = looks >= 3 ? 0.5 : looks === 2 ? LEARNED_FIRST_SHARE : SINGLE_LOOK_SHARE;
  const first = Math.round(window.lo + share * width);
  const dense = Math.round(
    Math.min(DENSE_MAX_MS, Math.max(DENSE_MIN_MS, (window.hi - first) / Math.max(1, looks - 1))),
  );
  return { first, dense, scout: scouted ? Math.round(0.4 * first) : undefined };
}

/** Past this, a learned wait is "much later" than learned: the server changed. */
export function lateLimitMs(window: LearnedWindow): number {
  return 1.5 * window.hi + 1000;
}

/** True when a finished wait says the server's speed changed from what `window` learned. */
export function speedChanged(window: LearnedWindow, sample: PollSample): boolean {
  return sample.pending > lateLimitMs(window) || sample.ready < 0.5 * window.lo;
}

/**
 * The remembered samples after one more wait: at most MAX_SAMPLES, the newest last; a wait that
 * says the server's speed changed replaces all of them (the old ones describe another server).
 */
export function withSample(samples: readonly PollSample[], sample: PollSample): PollSample[] {
  const clean = cleanSample(sample);
  if (!clean) return [...samples];
  const window = learnedWindow(samples);
  if (window && speedChanged(window, clean)) return [clean];
  return [...samples, clean].slice(-MAX_SAMPLES);
}

function cleanSample(sample: PollSample): PollSample | undefined {
  const ready = Math.round(sample.ready);
  const pending = Math.round(sample.pending);
  if (!Number.isFinite(ready) || !Number.isFinite(pending) || ready <= 0 || ready > MAX_DURATION_MS) return undefined;
  return { pending: Math.min(Math.max(0, pending), ready), ready };
}

/**
 * The plan of one wait: when (ms after the upload) to send the next job_status request, given
 * when the earlier ones went. `window` undefined: the cold schedule.
 */
export class PollPlan {
  readonly window: LearnedWindow | undefined;
  /** `--interval`: every look this long after the one before (the first this long after the upload). */
  readonly fixedIntervalMs: number | undefined;
  #fellBack = false;

  readonly #learned: { first: number; dense: number; scout: number | undefined } | undefined;

  /** `options.fixedIntervalMs` replaces the cold and learned schedules; the minute bound and Retry-After still hold. */
  constructor(window: LearnedWindow | undefined, options: { fixedIntervalMs?: number | undefined } = {}) {
    this.fixedIntervalMs = options.fixedIntervalMs;
    this.window = this.fixedIntervalMs === undefined ? window : undefined;
    this.#learned = this.window && learnedLooks(this.window);
  }

  /** True once this wait found the server much slower than learned and went back to the cold schedule. */
  get fellBack(): boolean {
    return this.#fellBack;
  }

  /**
   * `pollsAt`: when the earlier requests went (ms after the upload, ascending); `nowMs`: now;
   * `retryAfterMs`: the server asked us to wait this long (a 429), from now.
   */
  nextPollAt(pollsAt: readonly number[], nowMs: number, retryAfterMs?: number): number {
    const count = pollsAt.length;
    const last = pollsAt.at(-1);
    const window = this.window;
    let at: number;
    if (window && !this.#fellBack && last !== undefined && last > lateLimitMs(window)) this.#fellBack = true;
    if (this.fixedIntervalMs !== undefined) {
      at = (last ?? 0) + this.fixedIntervalMs;
    } else if (!window || this.#fellBack) {
      at = last === undefined ? DEFAULT_FIRST_POLL_MS : last + defaultIntervalMs(last);
    } else {
      const { first, dense, scout } = this.#learned!;
      if (count === 0 && scout !== undefined) at = scout;
      else if (last === undefined || last < first) at = first;
      else at = last + dense;
      // Never ahead of the SDK: our n-th request no earlier than its n-th.
      at = Math.max(at, sdkPollAtMs(count));
    }
    // At most MAX_POLLS_PER_MINUTE in any minute.
    if (count >= MAX_POLLS_PER_MINUTE) at = Math.max(at, pollsAt[count - MAX_POLLS_PER_MINUTE]! + 60_000);
    // Retry-After wins.
    if (retryAfterMs !== undefined) at = Math.max(at, nowMs + retryAfterMs);
    return Math.round(at);
  }
}

/** What a wait reads and leaves behind: the samples of one server and job type. */
export interface PollTimes {
  samples(): Promise<PollSample[]>;
  record(sample: PollSample): Promise<void>;
}

interface PollTimesDocument {
  version: 1;
  /** key → samples as [pending, ready] pairs and a use counter (no ids, no URLs: the key is a hash). */
  servers: Record<string, { used: number; samples: [number, number][] }>;
}

/** The key of a server and job type: a hash, so that the file names no URL. */
export function pollTimesKey(baseUrl: string, jobType: number): string {
  return createHash('sha256')
    .update(`${baseUrl.replace(/\/+$/, '')}\n${jobType}`)
    .digest('hex')
    .slice(0, 16);
}

function parseDocument(text: string): PollTimesDocument {
  const empty: PollTimesDocument = { version: 1, servers: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return empty;
  }
  if (!parsed || typeof parsed !== 'object' || (parsed as { version?: unknown }).version !== 1) return empty;
  const servers = (parsed as { servers?: unknown }).servers;
  if (!servers || typeof servers !== 'object') return empty;
  const out: PollTimesDocument = { version: 1, servers: {} };
  for (const [key, value] of Object.entries(servers as Record<string, unknown>)) {
    if (!/^[0-9a-f]{16}$/.test(key) || !value || typeof value !== 'object') continue;
    const { used, samples } = value as { used?: unknown; samples?: unknown };
    if (typeof used !== 'number' || !Array.isArray(samples)) continue;
    const clean = samples
      .filter((pair): pair is [number, number] => Array.isArray(pair) && pair.length === 2)
      .map(([pending, ready]) => cleanSample({ pending, ready }))
      .filter((sample): sample is PollSample => sample !== undefined)
      .slice(-MAX_SAMPLES);
    out.servers[key] = { used, samples: clean.map((sample) => [sample.pending, sample.ready]) };
  }
  return out;
}

/** Keeps the MAX_SERVERS most recently used servers. */
function bounded(document: PollTimesDocument): PollTimesDocument {
  const entries = Object.entries(document.servers).sort((a, b) => b[1].used - a[1].used);
  return { version: 1, servers: Object.fromEntries(entries.slice(0, MAX_SERVERS)) };
}

/**
 * The poll times file in the user's state directory (`stateDir` of src/config/paths.ts). Reading
 * a missing or unreadable file gives nothing learned; a file that cannot be written is left as it
 * is: the schedule is an optimisation, never a reason for a registration to fail.
 */
export function pollTimesFile(dir: string, baseUrl: string, jobType: number): PollTimes {
  const file = join(dir, POLL_TIMES_FILE_NAME);
  const key = pollTimesKey(baseUrl, jobType);
  const read = async (): Promise<PollTimesDocument> => {
    try {
      return parseDocument(await readFile(file, 'utf8'));
    } catch {
      return { version: 1, servers: {} };
    }
  };
  return {
    async samples() {
      return ((await read()).servers[key]?.samples ?? []).map(([pending, ready]) => ({ pending, ready }));
    },
    async record(sample) {
      try {
        const document = await read();
        const before = (document.servers[key]?.samples ?? []).map(([pending, ready]) => ({ pending, ready }));
        const used = Math.max(0, ...Object.values(document.servers).map((server) => server.used)) + 1;
        document.servers[key] = {
          used,
          samples: withSample(before, sample).map((s) => [s.pending, s.ready]),
        };
        await mkdir(dirname(file), { recursive: true, mode: DIR_MODE });
        await writeFileAtomically(file, `${JSON.stringify(bounded(document))}\n`, { mode: FILE_MODE });
      } catch {
        // Not written (read-only or missing state directory): the next wait starts cold.
      }
    },
  };
}

/** Samples kept in memory only (bulk: one run's jobs; tests). */
export class MemoryPollTimes implements PollTimes {
  #samples: PollSample[] = [];
  samples(): Promise<PollSample[]> {
    return Promise.resolve([...this.#samples]);
  }
  record(sample: PollSample): Promise<void> {
    this.#samples = withSample(this.#samples, sample);
    return Promise.resolve();
  }
  /** Synchronous view (bulk's pacer). */
  get current(): readonly PollSample[] {
    return this.#samples;
  }
  observe(sample: PollSample): void {
    this.#samples = withSample(this.#samples, sample);
  }
}
