/**
 * Waiting for a condition instead of sleeping for "long enough". The limit only turns a hang into
 * a readable failure (it is kept below the 30 s test timeout); nothing is asserted about time.
 */
export interface WaitOptions {
  /** How often to look again (default 5 ms). */
  everyMs?: number;
  /** Give up after this long (default 20 s). */
  limitMs?: number;
}

/** Polls `check` until it returns a value other than undefined, and returns that value. */
export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string | (() => string) = 'a condition',
  options: WaitOptions = {},
): Promise<T> {
  const every = options.everyMs ?? 5;
  const limit = options.limitMs ?? 20_000;
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - started > limit)
      throw new Error(`gave up waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** Polls `condition` until it holds. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  options: WaitOptions = {},
): Promise<void> {
  await until(async () => ((await condition()) ? true : undefined), what, options);
}
