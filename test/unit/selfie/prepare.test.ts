import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { stripJpegMetadata } from '../../../src/selfie/jpeg-segments.js';
import { prepareSelfie } from '../../../src/selfie/prepare.js';
import { BAD, GOOD } from './helpers.js';

/** Asserts what every prepared JPEG must be: baseline-or-progressive JPEG, 8-bit sRGB, 3 channels, no metadata beyond sRGB. */
async function expectSendable(jpeg: Buffer, maxLongSide: number): Promise<Metadata> {
  const meta = await sharp(jpeg).metadata();
  expect(meta).toMatchObject({ format: 'jpeg', channels: 3, space: 'srgb', depth: 'uchar', hasAlpha: false });
  expect(meta.orientation ?? 1).toBe(1);
  expect(meta.exif).toBeUndefined();
  expect(meta.xmp).toBeUndefined();
  expect(meta.iptc).toBeUndefined();
  if (meta.icc) expect(meta.icc.toString('latin1')).toMatch(/sRGB/);
  expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(maxLongSide);
  await expect(sharp(jpeg, { failOn: 'warning' }).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
  return meta;
}

/** Mean absolute difference of two images compared at 64×80 greyscale, 0–255. */
async function difference(a: Buffer, b: Buffer): Promise<number> {
  const small = (x: Buffer) => sharp(x).autoOrient().resize(64, 80, { fit: 'fill' }).greyscale().raw().toBuffer();
  const [pa, pb] = await Promise.all([small(a), small(b)]);
  let sum = 0;
  for (let i = 0; i < pa.length; i++) sum += Math.abs((pa[i] ?? 0) - (pb[i] ?? 0));
  return sum / pa.length;
}

describe('prepareSelfie', () => {
  it.each(['demo.jpg', 'selfie-progressive.jpg', 'selfie-960x1200.jpg'])('sends %s byte for byte', async (name) => {
    const source = await readFile(`${GOOD}${name}`);
    const prepared = await prepareSelfie(`${GOOD}${name}`, { kind: 'selfie' });
    expect(prepared.changed).toBe(false);
    expect(prepared.changes).toEqual([]);
    expect(prepared.jpeg.equals(source)).toBe(true);
    expect(prepared).toMatchObject({ bytes: source.length, sourceBytes: source.length });
  });

  it('scales liveness frames to the 320 px long side of the mobile SDKs', async () => {
    const frame = await prepareSelfie(`${GOOD}liveness-1.jpg`, { kind: 'liveness' });
    expect(frame).toMatchObject({ changed: true, width: 256, height: 320 });
    expect(frame.changes).toEqual(['resized 360×450 → 256×320']);
    await expectSendable(frame.jpeg, 320);
    const big = await prepareSelfie(`${GOOD}selfie-960x1200.jpg`, { kind: 'liveness' });
    expect(big).toMatchObject({ changed: true, width: 256, height: 320 });
    expect(big.changes).toEqual(['resized 960×1200 → 256×320']);
    await expectSendable(big.jpeg, 320);
  });

  it('applies the EXIF orientation: the result is upright and matches the original', async () => {
    const prepared = await prepareSelfie(`${BAD}exif-rotated.jpg`, { kind: 'selfie' });
    expect(prepared).toMatchObject({ changed: true, width: 640, height: 800 });
    expect(prepared.changes[0]).toBe('applied EXIF orientation 6');
    const meta = await expectSendable(prepared.jpeg, 1280);
    expect([meta.width, meta.height]).toEqual([640, 800]);
    expect(meta.icc).toBeUndefined();
    const demo = await readFile(`${GOOD}demo.jpg`);
    expect(await difference(prepared.jpeg, demo)).toBeLessThan(4);
    // Not rotated, it would not match: the comparison is meaningful.
    const sideways = await sharp(`${BAD}exif-rotated.jpg`).resize(640, 800, { fit: 'fill' }).jpeg().toBuffer();
    expect(await difference(await sharp(sideways).rotate(180).toBuffer(), demo)).toBeGreaterThan(10);
  });

  it('removes EXIF and XMP from a good JPEG without re-encoding it', async () => {
    const source = await readFile(`${GOOD}selfie-with-exif.jpg`);
    expect((await sharp(source).metadata()).exif).toBeDefined();
    const prepared = await prepareSelfie(source, { kind: 'selfie' });
    expect(prepared.changed).toBe(true);
    expect(prepared.changes).toEqual(['removed metadata (EXIF, XMP) without re-encoding']);
    expect(prepared.bytes).toBeLessThan(source.length);
    await expectSendable(prepared.jpeg, 1280);
    expect(prepared.jpeg.includes('Smilephone')).toBe(false);
    // Same pixels, bit for bit.
    const [a, b] = await Promise.all([sharp(source).raw().toBuffer(), sharp(prepared.jpeg).raw().toBuffer()]);
    expect(a.equals(b)).toBe(true);
  });

  it('scales a large photo to a long side of 1280 px (selfie) or 320 px (liveness)', async () => {
    const photo = await sharp(`${GOOD}demo.jpg`).resize(2400, 3000).jpeg({ quality: 85 }).toBuffer();
    const selfie = await prepareSelfie(photo, { kind: 'selfie' });
    expect(selfie).toMatchObject({ width: 1024, height: 1280, changed: true });
    await expectSendable(selfie.jpeg, 1280);
    const frame = await prepareSelfie(photo, { kind: 'liveness' });
    expect(frame).toMatchObject({ width: 256, height: 320 });
    await expectSendable(frame.jpeg, 320);
  });

  it.each([
    ['alpha.png', ['converted PNG to JPEG', 'removed the alpha channel (transparent pixels become white)']],
    ['cmyk.jpg', ['converted CMYK to sRGB']],
    ['greyscale.jpg', ['converted greyscale to 3-channel sRGB']],
    ['16-bit.png', ['converted PNG to JPEG', 'reduced 16-bit samples to 8-bit']],
    ['selfie.webp', ['converted WebP to JPEG']],
    ['selfie.avif', ['converted AVIF to JPEG']],
    ['selfie.tiff', ['converted TIFF to JPEG']],
    ['single-frame.gif', ['converted GIF to JPEG']],
  ])('normalises %s', async (name, changes) => {
    const prepared = await prepareSelfie(`${BAD}${name}`, { kind: 'selfie' });
    expect(prepared.changed).toBe(true);
    expect(prepared.changes).toEqual(changes);
    await expectSendable(prepared.jpeg, 1280);
  });

  it('flattens transparency onto white', async () => {
    const prepared = await prepareSelfie(`${BAD}alpha.png`, { kind: 'selfie' });
    const { data } = await sharp(prepared.jpeg)
      .extract({ left: 0, top: 0, width: 8, height: 8 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(Math.min(...data)).toBeGreaterThan(245);
  });

  it('converts a Display P3 profile to sRGB and drops the profile', async () => {
    const prepared = await prepareSelfie(`${BAD}display-p3.jpg`, { kind: 'selfie' });
    expect(prepared.changes[0]).toMatch(/^converted colour profile ".+" to sRGB$/);
    const meta = await expectSendable(prepared.jpeg, 1280);
    expect(meta.hasProfile).toBe(false);
  });

  it('strips bulky metadata from a large JPEG instead of re-encoding it', async () => {
    const base = await readFile(`${GOOD}demo.jpg`);
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0xff, 0xff]), Buffer.alloc(0xfffd, 0x41)]);
    const bulky = Buffer.concat([base.subarray(0, 2), ...Array.from({ length: 90 }, () => comment), base.subarray(2)]);
    expect(bulky.length).toBeGreaterThan(5 * 1024 * 1024);
    const prepared = await prepareSelfie(bulky, { kind: 'selfie' });
    expect(prepared.jpeg.equals(base)).toBe(true);
    expect(prepared.changes).toEqual(['removed metadata (comment) without re-encoding']);
  });

  it('throws an InputError listing the findings for a file with errors', async () => {
    const error = await prepareSelfie(`${BAD}truncated.jpg`, { kind: 'selfie' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({
      code: 'selfie_truncated',
      exitCode: 4,
      details: { findings: [{ code: 'truncated', severity: 'error' }] },
    });
    await expect(prepareSelfie(`${BAD}does-not-exist.jpg`, { kind: 'selfie' })).rejects.toMatchObject({
      code: 'selfie_unreadable',
    });
    await expect(prepareSelfie(`${BAD}pixel-bomb.png`, { kind: 'selfie' })).rejects.toMatchObject({
      code: 'selfie_too_many_pixels',
    });
  });
});

describe('stripJpegMetadata', () => {
  it('returns the same buffer when there is nothing to remove', async () => {
    const demo = await readFile(`${GOOD}demo.jpg`);
    const result = stripJpegMetadata(demo);
    expect(result?.jpeg).toBe(demo);
    expect(result?.removed).toEqual([]);
  });

  it('drops data after the end of the image (MPF gain maps, junk)', async () => {
    const demo = await readFile(`${GOOD}demo.jpg`);
    const result = stripJpegMetadata(Buffer.concat([demo, Buffer.from('trailing junk')]));
    expect(result?.removed).toEqual(['trailing data']);
    expect(result?.jpeg.equals(demo)).toBe(true);
  });

  it('copies progressive JPEGs (many scans) exactly', async () => {
    const progressive = await readFile(`${GOOD}selfie-progressive.jpg`);
    expect(stripJpegMetadata(progressive)?.jpeg).toBe(progressive);
  });

  it('gives up (null) on anything that is not a well-formed JPEG', async () => {
    expect(stripJpegMetadata(Buffer.from('not a jpeg'))).toBeNull();
    expect(stripJpegMetadata(await readFile(`${BAD}truncated.jpg`))).toBeNull();
    expect(stripJpegMetadata(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBeNull();
  });
});
