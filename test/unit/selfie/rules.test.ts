import { describe, expect, it } from 'vitest';
import type { SelfieFacts } from '../../../src/selfie/inspect.js';
import { uprightFace } from '../../helpers/faces.js';
import {
  LARGE_FILE_BYTES,
  MAX_INPUT_PIXELS,
  MAX_MEAN_LUMA,
  MIN_COLOURFULNESS,
  MIN_LAPLACIAN_VARIANCE,
  MIN_LONG_SIDE,
  MIN_MEAN_LUMA,
  MIN_SHORT_SIDE,
  SELFIE_THRESHOLDS_HELP,
} from '../../../src/selfie/limits.js';
import { evaluateSelfie, exposureAdjustedSharpness, hasErrors } from '../../../src/selfie/rules.js';

/** The facts of a good 640×800 JPEG selfie; tests change one thing at a time. */
function facts(change: Partial<SelfieFacts> = {}, stats: Partial<NonNullable<SelfieFacts['stats']>> = {}): SelfieFacts {
  return {
    path: 'selfie.jpg',
    extension: '.jpg',
    bytes: 80_000,
    readError: null,
    sniffed: 'jpeg',
    decodeError: null,
    format: 'jpeg',
    compression: null,
    width: 640,
    height: 800,
    pixels: 640 * 800,
    pages: 1,
    animated: false,
    orientation: null,
    space: 'srgb',
    channels: 3,
    depth: 'uchar',
    hasAlpha: false,
    isProgressive: false,
    iccDescription: null,
    metadata: [],
    decoded: true,
    stats: {
      sampleWidth: 160,
      sampleHeight: 200,
      meanLuma: 130,
      laplacianVariance: 400,
      colourfulness: 35,
      transparentShare: 0,
      ...stats,
    },
    faceCheck: { state: 'done', facts: { detector: 'test', faces: [uprightFace()], rotation: 0, aspect: 0.8 } },
    ...change,
  };
}

const codes = (f: SelfieFacts, kind: 'selfie' | 'liveness' = 'selfie'): string[] =>
  evaluateSelfie(f, { kind }).map((x) => `${x.code}:${x.severity}`);

describe('evaluateSelfie', () => {
  it('finds nothing wrong with a good selfie', () => {
    expect(codes(facts())).toEqual([]);
  });

  it('reports read failures as errors and nothing else', () => {
    expect(codes(facts({ readError: { code: 'missing', message: 'ENOENT' }, bytes: 0 }))).toEqual(['unreadable:error']);
    expect(codes(facts({ readError: { code: 'directory', message: 'dir' } }))).toEqual(['unreadable:error']);
    expect(codes(facts({ readError: { code: 'permission', message: 'EACCES' } }))).toEqual(['unreadable:error']);
    expect(codes(facts({ readError: { code: 'too_large', message: 'big' }, bytes: 200 * 1024 * 1024 }))).toEqual([
      'file_too_large:error',
    ]);
    expect(
      evaluateSelfie(facts({ readError: { code: 'missing', message: 'x' } }), { kind: 'selfie' })[0]?.message,
    ).toMatch(/does not exist/);
  });

  it('treats an empty file as empty, whatever else the facts say', () => {
    expect(codes(facts({ bytes: 0 }))).toEqual(['empty_file:error']);
  });

  it('tells non-images from images it cannot convert', () => {
    expect(codes(facts({ sniffed: 'pdf', format: null, decodeError: { kind: 'not_an_image', message: '' } }))).toEqual([
      'not_an_image:error',
    ]);
    expect(codes(facts({ sniffed: 'heic', format: null, decodeError: { kind: 'unsupported', message: '' } }))).toEqual([
      'unsupported_format:error',
    ]);
    expect(codes(facts({ format: 'svg', decodeError: { kind: 'unsupported', message: '' } }))).toEqual([
      'unsupported_format:error',
    ]);
  });

  it('reports truncated and corrupt data as errors, without picture warnings', () => {
    expect(
      codes(facts({ decodeError: { kind: 'truncated', message: '' }, stats: null, width: 300, height: 400 })),
    ).toEqual(['truncated:error']);
    expect(codes(facts({ decodeError: { kind: 'corrupt', message: 'Corrupt JPEG data' }, stats: null }))).toEqual([
      'corrupt:error',
    ]);
  });

  it('tells animations from multi-page files', () => {
    expect(codes(facts({ format: 'gif', pages: 3, animated: true, stats: null }))).toEqual(['animated:error']);
    expect(codes(facts({ format: 'tiff', pages: 2, animated: false, stats: null }))).toEqual(['multi_page:error']);
  });

  it('refuses too many pixels at the limit + 1', () => {
    expect(codes(facts({ pixels: MAX_INPUT_PIXELS, width: 20000, height: 12500, stats: null }))).toEqual([]);
    expect(codes(facts({ pixels: MAX_INPUT_PIXELS + 1, width: 20001, height: 12500, stats: null }))).toEqual([
      'too_many_pixels:error',
    ]);
  });

  it('needs a shorter side of MIN_SHORT_SIDE px, and warns under MIN_LONG_SIDE', () => {
    expect(codes(facts({ width: MIN_SHORT_SIDE, height: 300 }))).toEqual(['low_resolution:warning']);
    expect(codes(facts({ width: MIN_SHORT_SIDE - 1, height: 300 }))).toEqual(['too_small:error']);
    expect(codes(facts({ width: 480, height: MIN_LONG_SIDE.selfie }))).toEqual([]);
    expect(codes(facts({ width: 480, height: MIN_LONG_SIDE.selfie - 1 }))).toEqual(['low_resolution:warning']);
  });

  it('holds liveness frames to the size the mobile SDKs capture (320 px long side)', () => {
    expect(codes(facts({ width: 240, height: MIN_LONG_SIDE.liveness }), 'liveness')).toEqual([]);
    expect(codes(facts({ width: 240, height: MIN_LONG_SIDE.liveness - 1 }), 'liveness')).toEqual([
      'low_resolution:warning',
    ]);
  });

  it('warns about exposure at the thresholds', () => {
    expect(codes(facts({}, { meanLuma: MIN_MEAN_LUMA }))).toEqual([]);
    expect(codes(facts({}, { meanLuma: MIN_MEAN_LUMA - 0.5 }))).toEqual(['too_dark:warning']);
    expect(codes(facts({}, { meanLuma: MAX_MEAN_LUMA }))).toEqual([]);
    expect(codes(facts({}, { meanLuma: MAX_MEAN_LUMA + 0.5 }))).toEqual(['too_bright:warning']);
  });

  it('warns about blur, but not on top of an exposure warning', () => {
    expect(codes(facts({}, { laplacianVariance: MIN_LAPLACIAN_VARIANCE }))).toEqual([]);
    expect(codes(facts({}, { laplacianVariance: MIN_LAPLACIAN_VARIANCE - 1 }))).toEqual(['blurry:warning']);
    expect(codes(facts({}, { laplacianVariance: 5, meanLuma: 20 }))).toEqual(['too_dark:warning']);
    expect(codes(facts({}, { laplacianVariance: 5, meanLuma: 250 }))).toEqual(['too_bright:warning']);
  });

  it('does not mistake a dim photo for a blurry one: sharpness is scaled by exposure', () => {
    // Half as bright: contrast halves and the Laplacian variance drops to a quarter.
    expect(exposureAdjustedSharpness({ laplacianVariance: 100, meanLuma: 64 })).toBe(400);
    expect(exposureAdjustedSharpness({ laplacianVariance: 100, meanLuma: 200 })).toBe(100);
    expect(codes(facts({}, { laplacianVariance: MIN_LAPLACIAN_VARIANCE / 4, meanLuma: 64 }))).toEqual([]);
    expect(codes(facts({}, { laplacianVariance: MIN_LAPLACIAN_VARIANCE / 4 - 1, meanLuma: 64 }))).toEqual([
      'blurry:warning',
    ]);
  });

  it('warns about greyscale', () => {
    expect(codes(facts({}, { colourfulness: MIN_COLOURFULNESS }))).toEqual([]);
    expect(codes(facts({}, { colourfulness: 0 }))).toEqual(['greyscale:warning']);
  });

  it('warns about EXIF rotation, large files, transparency, CMYK and a misleading extension', () => {
    expect(codes(facts({ orientation: 1 }))).toEqual([]);
    expect(codes(facts({ orientation: 8 }))).toEqual(['exif_rotated:warning']);
    expect(codes(facts({ bytes: LARGE_FILE_BYTES }))).toEqual([]);
    expect(codes(facts({ bytes: LARGE_FILE_BYTES + 1 }))).toEqual(['large_file:warning']);
    expect(codes(facts({ hasAlpha: true, channels: 4 }, { transparentShare: 0.3 }))).toEqual(['transparency:warning']);
    expect(codes(facts({ hasAlpha: true, channels: 4 }, { transparentShare: 0 }))).toEqual([]);
    expect(codes(facts({ space: 'cmyk', channels: 4 }))).toEqual(['colour_space:warning']);
    expect(codes(facts({ extension: '.heic' }))).toEqual(['extension_mismatch:warning']);
    expect(codes(facts({ extension: '.txt' }))).toEqual([]);
    expect(codes(facts({ extension: '.jpeg' }))).toEqual([]);
    expect(codes(facts({ extension: null, path: null }))).toEqual([]);
  });

  it('lists errors before warnings and drops warnings once there is an error', () => {
    const findings = evaluateSelfie(
      facts({ width: 100, height: 120, orientation: 6, bytes: LARGE_FILE_BYTES + 1 }, { meanLuma: 10 }),
      { kind: 'selfie' },
    );
    expect(findings.map((f) => f.code)).toEqual(['too_small']);
    expect(hasErrors(findings)).toBe(true);
    expect(hasErrors(evaluateSelfie(facts({ orientation: 6 }), { kind: 'selfie' }))).toBe(false);
  });

  it('documents every threshold in the help text', () => {
    for (const value of [
      MIN_SHORT_SIDE,
      MIN_LONG_SIDE.selfie,
      MIN_LONG_SIDE.liveness,
      MIN_MEAN_LUMA,
      MAX_MEAN_LUMA,
      MIN_LAPLACIAN_VARIANCE,
      MIN_COLOURFULNESS,
      1280,
      640,
    ]) {
      expect(SELFIE_THRESHOLDS_HELP).toContain(String(value));
    }
    expect(SELFIE_THRESHOLDS_HELP).toContain(`${MAX_INPUT_PIXELS / 1_000_000} megapixels`);
    for (const code of [
      'empty_file',
      'truncated',
      'not_an_image',
      'animated',
      'too_many_pixels',
      'too_dark',
      'blurry',
      'greyscale',
      'exif_rotated',
      'large_file',
      'low_resolution',
    ]) {
      expect(SELFIE_THRESHOLDS_HELP).toContain(code);
    }
  });
});
