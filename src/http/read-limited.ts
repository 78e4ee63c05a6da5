/**
 * The one reader of a byte stream with a size cap: a fetch answer (`Response.body`), a request to
 * one of our servers (`IncomingMessage`), stdin. What happens to the rest of a stream that went
 * over the cap is the caller's choice, because it decides what the other side sees next.
 */

/** A body read whole, or the news that it went over the cap (what was read is dropped). */
export type LimitedBody = { tooLarge: false; bytes: Buffer } | { tooLarge: true };

/**
 * What to do with the rest of a stream that went over the cap:
 * - `stop`: end it (a fetch body is cancelled, a Node stream destroyed) and answer at once;
 * - `drain`: answer at once, and read and drop the rest in the background (a server that still
 *   answers on the connection; a failure of the rest is ignored);
 * - `drain-then-answer`: read and drop the rest, and answer once the stream has ended (a failure
 *   of the rest rejects).
 */
export type OverflowMode = 'stop' | 'drain' | 'drain-then-answer';

export interface ReadLimitedOptions {
  overflow: OverflowMode;
  /** The Content-Length the sender declared, as sent: over the cap, nothing is read. */
  declaredLength?: string | null | undefined;
}

/** Read `source` into memory, keeping at most `limit` bytes; a read failure rejects. */
export async function readLimited(
  source: AsyncIterable<Uint8Array | string>,
  limit: number,
  options: ReadLimitedOptions,
): Promise<LimitedBody> {
  const iterator = source[Symbol.asyncIterator]();
  const declared = Number(options.declaredLength ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return overflow(iterator, options.overflow);
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await iterator.next();
    if (done) return { tooLarge: false, bytes: Buffer.concat(chunks) };
    const chunk =
      typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    size += chunk.length;
    if (size > limit) {
      chunks.length = 0;
      return overflow(iterator, options.overflow);
    }
    chunks.push(chunk);
  }
}

async function overflow(iterator: AsyncIterator<unknown>, mode: OverflowMode): Promise<LimitedBody> {
  // A stream that cannot be cancelled cleanly is given up all the same.
  if (mode === 'stop') await Promise.resolve(iterator.return?.()).catch(() => undefined);
  else if (mode === 'drain-then-answer') await drain(iterator);
  else drain(iterator).catch(() => undefined);
  return { tooLarge: true };
}

async function drain(iterator: AsyncIterator<unknown>): Promise<void> {
  while (!(await iterator.next()).done) {
    // dropped
  }
}
