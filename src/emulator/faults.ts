/** Fault injection for the emulator: seeded, so a run with the same seed and request order repeats. */

export interface FaultOptions {
  /** Share of requests answered 500 `{code:"2201"}` (0..1). */
  errorRate?: number;
  /** Share of requests whose socket is destroyed before any work is done. */
  dropRate?: number;
  /** Share of requests whose work takes effect but whose socket is destroyed instead of answering. */
  dropAfterWorkRate?: number;
  /** Share of requests answered 429 with `Retry-After`. */
  rateLimitRate?: number;
  /** Value of `Retry-After` (seconds) on a 429; default 1. */
  retryAfterSeconds?: number;
  /** Delay added before every faultable request is handled. */
  latencyMs?: number;
  /** PRNG seed; default 42. Setting it again restarts the sequence. */
  seed?: number;
}

/** What to do to one request. At most one of drop / rateLimit / error is set; dropAfterWork may come on top of none. */
export interface FaultDecision {
  latencyMs: number;
  drop: boolean;
  rateLimit: boolean;
  error: boolean;
  dropAfterWork: boolean;
}

const DEFAULT_SEED = 42;

/** mulberry32: tiny, fast, good enough to spread faults evenly, and repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rate(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

export class FaultInjector {
  private options: FaultOptions = {};
  private random: () => number = seededRandom(DEFAULT_SEED);

  constructor(options: FaultOptions = {}) {
    this.set(options);
  }

  /** Replaces the whole fault configuration; a given `seed` restarts the sequence. */
  set(options: FaultOptions): void {
    this.options = { ...options };
    if (options.seed !== undefined) this.random = seededRandom(options.seed);
  }

  get current(): Readonly<FaultOptions> {
    return this.options;
  }

  get retryAfterSeconds(): number {
    const value = this.options.retryAfterSeconds;
    return value !== undefined && Number.isFinite(value) && value >= 0 ? Math.round(value) : 1;
  }

  /**
   * Decides the fate of one request. Four numbers are drawn every time, in a fixed order, so the
   * sequence of decisions depends only on the seed and the number of faultable requests.
   */
  decide(): FaultDecision {
    const o = this.options;
    const [dropRoll, rateRoll, errorRoll, afterRoll] = [this.random(), this.random(), this.random(), this.random()];
    const drop = dropRoll < rate(o.dropRate);
    const rateLimit = !drop && rateRoll < rate(o.rateLimitRate);
    const error = !drop && !rateLimit && errorRoll < rate(o.errorRate);
    const dropAfterWork = !drop && !rateLimit && !error && afterRoll < rate(o.dropAfterWorkRate);
    const latency = o.latencyMs !== undefined && Number.isFinite(o.latencyMs) && o.latencyMs > 0 ? o.latencyMs : 0;
    return { latencyMs: latency, drop, rateLimit, error, dropAfterWork };
  }
}
