import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJpegHeader } from '../../../src/selfie/jpeg-segments.js';
import {
  iccProfileDescription,
  inspectSelfie,
  isSrgbProfile,
  looksTruncated,
  pixelStats,
  sniffType,
} from '../../../src/selfie/inspect.js';
import { evaluateSelfie } from '../../../src/selfie/rules.js';
import { BAD, GOOD } from './helpers.js';

/** A 1-bit greyscale PNG whose header says width×height and whose IDAT is not even deflate data. */
function pngWithBrokenPixels(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth; colour type, compression, filter and interlace stay 0
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from('these bytes are no pixels '.repeat(8))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** demo.jpg with its frame header set to width×height and its scan cut off 64 bytes in. */
async function jpegWithBrokenScan(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(await readFile(`${GOOD}demo.jpg`));
  for (let pos = 2; pos + 4 <= jpeg.length;) {
    const marker = jpeg[pos + 1]!;
    const length = jpeg.readUInt16BE(pos + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      jpeg.writeUInt16BE(height, pos + 5);
      jpeg.writeUInt16BE(width, pos + 7);
    }
    if (marker === 0xda) return jpeg.subarray(0, pos + 2 + length + 64);
    pos += 2 + length;
  }
  throw new Error('demo.jpg has no scan');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-inspect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sniffType', () => {
  it.each([
    ['selfies/demo.jpg', 'jpeg'],
    ['bad/alpha.png', 'png'],
    ['bad/animated.gif', 'gif'],
    ['bad/selfie.webp', 'webp'],
    ['bad/selfie.tiff', 'tiff'],
    ['bad/selfie.avif', 'avif'],
    ['bad/iphone-photo.heic', 'heic'],
    ['bad/bitmap.bmp', 'bmp'],
    ['bad/drawing.svg', 'svg'],
    ['bad/document.pdf', 'pdf'],
    ['bad/login-page-saved-as.jpg', 'html'],
    ['bad/text-renamed.jpg', 'text'],
    ['bad/zero-bytes.jpg', 'empty'],
  ])('%s is %s', async (file, type) => {
    expect(sniffType(await readFile(`${GOOD}../${file}`))).toBe(type);
  });

  it('calls random bytes unknown and XML xml', () => {
    expect(sniffType(Buffer.from([0x00, 0x01, 0x02, 0xfe, 0x80, 0x00]))).toBe('unknown');
    expect(sniffType(Buffer.from('<?xml version="1.0"?><root/>'))).toBe('xml');
    expect(sniffType(Buffer.from('<?xml version="1.0"?>\n<!-- x -->\n<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe(
      'svg',
    );
  });
});

describe('inspectSelfie', () => {
  it('describes a good JPEG: metadata and statistics on a 200 px copy', async () => {
    const facts = await inspectSelfie(`${GOOD}demo.jpg`);
    expect(facts).toMatchObject({
      format: 'jpeg',
      width: 640,
      height: 800,
      channels: 3,
      space: 'srgb',
      depth: 'uchar',
      pages: 1,
      decoded: true,
      readError: null,
      decodeError: null,
    });
    expect(facts.stats).toMatchObject({ sampleWidth: 160, sampleHeight: 200 });
  });

  it('gives the same facts for a path and for its bytes', async () => {
    const fromPath = await inspectSelfie(`${GOOD}demo.jpg`);
    const fromBuffer = await inspectSelfie(await readFile(`${GOOD}demo.jpg`), { path: `${GOOD}demo.jpg` });
    expect(fromBuffer).toEqual(fromPath);
  });

  it('refuses the pixel bomb from its header without decoding it', async () => {
    const facts = await inspectSelfie(`${BAD}pixel-bomb.png`);
    expect(facts).toMatchObject({
      width: 30000,
      height: 30000,
      pixels: 900_000_000,
      decoded: false,
      stats: null,
      decodeError: null,
    });
    expect(facts.bytes).toBeLessThan(200_000);
  });

  // Proof that nothing but the header is read: behind a header of ordinary size, the same broken
  // pixel data fails to decode (a decode error); behind a header claiming 900 MP it is never
  // decoded, so there is no decode error, only the size the header claims.
  it.each([
    ['PNG (header read by sharp)', pngWithBrokenPixels],
    ['JPEG (header read in JavaScript)', jpegWithBrokenScan],
  ])('never decodes the pixels of a %s that claims too many pixels', async (_kind, make) => {
    const ordinary = await inspectSelfie(await make(640, 800));
    expect(ordinary).toMatchObject({ width: 640, height: 800, decoded: false, stats: null });
    expect(ordinary.decodeError?.kind).toMatch(/truncated|corrupt/);
    const bomb = await inspectSelfie(await make(30000, 30000));
    expect(bomb).toMatchObject({
      width: 30000,
      height: 30000,
      pixels: 900_000_000,
      decoded: false,
      stats: null,
      decodeError: null,
    });
    expect(evaluateSelfie(bomb, { kind: 'selfie' }).map((f) => f.code)).toEqual(['too_many_pixels']);
  });

  it('reports orientation and the displayed size of an EXIF-rotated photo', async () => {
    const facts = await inspectSelfie(`${BAD}exif-rotated.jpg`);
    expect(facts).toMatchObject({ orientation: 6, width: 640, height: 800 });
  });

  it('never throws: missing files, directories and garbage become facts', async () => {
    await expect(inspectSelfie(join(dir, 'nope.jpg'))).resolves.toMatchObject({ readError: { code: 'missing' } });
    await expect(inspectSelfie(dir)).resolves.toMatchObject({ readError: { code: 'directory' } });
    await expect(inspectSelfie(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]))).resolves.toMatchObject({
      decodeError: { kind: 'truncated' },
    });
    await expect(inspectSelfie(Buffer.alloc(3000, 7))).resolves.toMatchObject({
      decodeError: { kind: 'not_an_image' },
    });
  });

  it.skipIf(process.platform === 'win32')('does not read devices or wait on FIFOs', async () => {
    await expect(inspectSelfie('/dev/zero')).resolves.toMatchObject({ readError: { code: 'not_a_file' } });
    const fifo = join(dir, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
    await expect(inspectSelfie(fifo)).resolves.toMatchObject({ readError: { code: 'not_a_file' } });
  });

  it('does not read files over the size limit', async () => {
    const path = join(dir, 'big.jpg');
    await writeFile(path, Buffer.alloc(2048, 1));
    const facts = await inspectSelfie(path, { maxFileBytes: 1024 });
    expect(facts).toMatchObject({ readError: { code: 'too_large' }, bytes: 2048, stats: null });
    expect(evaluateSelfie(facts, { kind: 'selfie' }).map((f) => f.code)).toEqual(['file_too_large']);
  });

  it('warns about a file over 5 MiB (an uncompressed 1400×1400 PNG)', async () => {
    const noise = await sharp({ create: { width: 1400, height: 1400, channels: 3, background: '#8a6a5a' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noise.length).toBeGreaterThan(5 * 1024 * 1024);
    const facts = await inspectSelfie(noise, { path: 'noise.png' });
    expect(evaluateSelfie(facts, { kind: 'selfie' }).map((f) => f.code)).toContain('large_file');
  });
});

describe('readJpegHeader', () => {
  const jpegs = [...readdirSync(GOOD).map((f) => `${GOOD}${f}`), ...readdirSync(BAD).map((f) => `${BAD}${f}`)].filter(
    (p) => sniffType(readFileSync(p)) === 'jpeg',
  );

  it('covers the JPEG fixtures', () => {
    expect(jpegs.length).toBeGreaterThanOrEqual(15);
  });

  it.each(jpegs)('agrees with sharp.metadata() on %s', async (path) => {
    const buf = readFileSync(path);
    const header = readJpegHeader(buf);
    if (path.endsWith('truncated.jpg') || path.endsWith('corrupt-entropy.jpg')) return; // headers intact, data not
    expect(header).not.toBeNull();
    const meta = await sharp(buf).metadata();
    expect(header).toMatchObject({
      width: meta.width,
      height: meta.height,
      components: meta.channels,
      progressive: meta.isProgressive,
      orientation: meta.orientation ?? null,
    });
    expect(header?.icc?.equals(meta.icc ?? Buffer.alloc(0)) ?? meta.icc === undefined).toBe(true);
    expect(header?.metadata.includes('exif')).toBe(meta.exif !== undefined);
    expect(header?.metadata.includes('xmp')).toBe(meta.xmp !== undefined);
    // And inspectSelfie's facts from the JS header equal those it would build from sharp.
    const facts = await inspectSelfie(buf);
    expect(facts).toMatchObject({
      width: meta.autoOrient.width,
      height: meta.autoOrient.height,
      space: meta.space,
      channels: meta.channels,
      depth: meta.depth,
      isProgressive: meta.isProgressive,
    });
  });

  it('leaves anything unusual to sharp', () => {
    expect(readJpegHeader(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBeNull();
    expect(readJpegHeader(Buffer.from('GIF89a'))).toBeNull();
  });
});

describe('helpers', () => {
  it('reads ICC profile descriptions (v2 desc and v4 mluc)', async () => {
    const p3 = await sharp(`${BAD}display-p3.jpg`).metadata();
    expect(p3.icc && iccProfileDescription(p3.icc)).toBeTruthy();
    expect(isSrgbProfile(p3.icc ? iccProfileDescription(p3.icc) : null)).toBe(false);
    const srgb = await sharp(`${BAD}exif-rotated.jpg`).metadata();
    expect(isSrgbProfile(srgb.icc ? iccProfileDescription(srgb.icc) : null)).toBe(true);
    expect(isSrgbProfile('sRGB IEC61966-2.1')).toBe(true);
    expect(iccProfileDescription(Buffer.alloc(40))).toBeNull();
  });

  it('detects truncation from the structure of JPEG and PNG files', async () => {
    const jpeg = await readFile(`${GOOD}demo.jpg`);
    expect(looksTruncated('jpeg', jpeg)).toBe(false);
    expect(looksTruncated('jpeg', Buffer.concat([jpeg, Buffer.alloc(16)]))).toBe(false);
    expect(looksTruncated('jpeg', jpeg.subarray(0, 1000))).toBe(true);
    expect(looksTruncated('png', await readFile(`${BAD}truncated.png`))).toBe(true);
    expect(looksTruncated('png', await readFile(`${BAD}alpha.png`))).toBe(false);
  });

  it('computes statistics a person would agree with', () => {
    const flatGrey = new Uint8Array(16 * 16 * 3).fill(128);
    const grey = pixelStats(flatGrey, 16, 16, 3);
    expect(grey.meanLuma).toBeCloseTo(128, 6);
    expect(grey).toMatchObject({ laplacianVariance: 0, colourfulness: 0, transparentShare: 0 });
    const checker = new Uint8Array(16 * 16 * 3).map((_, i) =>
      ((Math.floor(i / 3) % 16) + Math.floor(i / 48)) % 2 === 0 ? 0 : 255,
    );
    expect(pixelStats(checker, 16, 16, 3).laplacianVariance).toBeGreaterThan(10_000);
    const red = new Uint8Array(16 * 16 * 3).map((_, i) => (i % 3 === 0 ? 220 : 30));
    expect(pixelStats(red, 16, 16, 3).colourfulness).toBeGreaterThan(50);
    // Fully transparent pixels count as white.
    const clear = new Uint8Array(16 * 16 * 4).fill(0);
    const white = pixelStats(clear, 16, 16, 4);
    expect(white.meanLuma).toBeCloseTo(255, 6);
    expect(white.transparentShare).toBe(1);
  });
});
