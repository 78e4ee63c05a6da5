import { CancelledError } from '../errors.js';
import { sleep } from '../smile/retry.js';

/**
 * The gate every bulk request passes before each attempt (SmileClient `beforeRequest`): one
 * shared pause when the server answers 429 (all workers wait out the longest Retry-After, once,
 * instead of each sleeping and stampeding back together), then the shared `--rate` budget.
 *
 * The rate limit is a token bucket kept as its next free slot ("virtual scheduling"): each
 * request takes the next slot, `1/rate` seconds after the previous one, so N workers together
 * send at most `rate` requests per second, in arrival order, with a burst of `burst`.
 */
export class RequestGate {
  readonly rate: number | undefined;
  readonly burst: number;
  #nextSlot = 0;
  #pausedUntil = 0;
  #pauses = 0;
  readonly #now: () => number;

  constructor(options: { rate?: number | undefined; burst?: number; now?: () => number } = {}) {
    if (options.rate !== undefined && !(options.rate > 0)) throw new RangeError('rate must be > 0');
    this.rate = options.rate;
    this.burst = Math.max(1, Math.floor(options.burst ?? 1));
    this.#now = options.now ?? Date.now;
  }

  /** How many 429 pauses started (a 429 during a running pause extends it, it does not count again). */
  get pauses(): number {
    return this.#pauses;
  }

  /** Epoch ms until which every request waits (0 when not paused). */
  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /** The server rate-limited us: everybody waits at least `retryAfterMs` from now. */
  onRateLimited(retryAfterMs: number): void {
    const until = this.#now() + Math.max(0, retryAfterMs);
    if (until <= this.#pausedUntil) return;
    if (this.#pausedUntil <= this.#now()) this.#pauses++;
    this.#pausedUntil = until;
  }

  /** Resolve when this request may go: after any pause, in its rate slot. */
  async beforeRequest(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#now();
      if (now < this.#pausedUntil) {
        await this.#sleep(this.#pausedUntil - now, signal);
        continue;
      }
      if (this.rate === undefined) return;
      const interval = 1000 / this.rate;
      // The bucket refills while idle, up to `burst` slots.
      const earliest = Math.max(this.#nextSlot, now - (this.burst - 1) * interval, this.#pausedUntil);
      this.#nextSlot = earliest + interval;
      const wait = earliest - now;
      if (wait > 0) await this.#sleep(wait, signal);
      // A 429 that arrived while we waited for our slot holds us too.
      if (this.#now() >= this.#pausedUntil) return;
    }
  }

  async #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(Math.ceil(ms), signal);
    } catch {
      throw new CancelledError();
    }
  }
}
