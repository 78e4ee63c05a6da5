import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLimited } from '../../../src/http/read-limited.js';

/** A Node stream of the given chunks that records how far it was read and whether it was destroyed. */
function source(chunks: (string | Buffer)[]) {
  let pulled = 0;
  const stream = new Readable({
    read() {
      const next = chunks[pulled];
      pulled += 1;
      this.push(next ?? null);
    },
  });
  return { stream, pulled: () => pulled, destroyed: () => stream.destroyed };
}

describe('readLimited', () => {
  it('reads a body up to the limit whole, strings and bytes alike', async () => {
    const { stream } = source(['ab', Buffer.from('cd'), 'é']);
    const body = await readLimited(stream, 6, { overflow: 'stop' });
    expect(body.tooLarge === false && body.bytes.toString('utf8')).toBe('abcdé');
  });

  it('reads a web stream (a fetch body) too', async () => {
    const web = new Response('{"ok":true}').body!;
    const body = await readLimited(web, 100, { overflow: 'stop' });
    expect(body.tooLarge === false && body.bytes.toString('utf8')).toBe('{"ok":true}');
  });

  it('stop: ends the stream at the first chunk past the limit', async () => {
    const { stream, pulled, destroyed } = source(['12345', '67890', 'more', 'and more']);
    expect(await readLimited(stream, 8, { overflow: 'stop' })).toEqual({ tooLarge: true });
    expect(destroyed()).toBe(true);
    expect(pulled()).toBeLessThan(4);
  });

  it('drain-then-answer: reads the rest before answering; drain: answers at once and reads the rest after', async () => {
    const waited = source(['12345', '67890', 'more', 'and more']);
    expect(await readLimited(waited.stream, 8, { overflow: 'drain-then-answer' })).toEqual({ tooLarge: true });
    expect(waited.pulled()).toBe(5);
    const drained = source(['12345', '67890', 'more', 'and more']);
    expect(await readLimited(drained.stream, 8, { overflow: 'drain' })).toEqual({ tooLarge: true });
    await new Promise((resolve) => drained.stream.once('end', resolve));
    expect(drained.pulled()).toBe(5);
  });

  it('refuses a declared length over the limit without reading', async () => {
    const { stream, pulled } = source(['small']);
    expect(await readLimited(stream, 8, { overflow: 'stop', declaredLength: '9' })).toEqual({ tooLarge: true });
    expect(pulled()).toBe(0);
    const fits = source(['small']);
    expect(await readLimited(fits.stream, 8, { overflow: 'stop', declaredLength: '5' })).toMatchObject({
      tooLarge: false,
    });
  });

  it('rejects when the stream fails before the limit', async () => {
    const failing = new Readable({
      read() {
        this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      },
    });
    await expect(readLimited(failing, 8, { overflow: 'drain-then-answer' })).rejects.toThrow('aborted');
  });
});
