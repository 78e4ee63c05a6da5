import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSelfie } from '../../../src/selfie/check.js';
import { BAD, GOOD } from './helpers.js';

type Expected = Array<`${string}:${'error' | 'warning'}`>;

/** Every file of fixtures/bad/ and the findings it must produce (code:severity, in order). */
const BAD_FIXTURES: Record<string, Expected> = {
  'zero-bytes.jpg': ['empty_file:error'],
  'truncated.jpg': ['truncated:error'],
  'truncated.png': ['truncated:error'],
  'corrupt-entropy.jpg': ['corrupt:error'],
  'text-renamed.jpg': ['not_an_image:error'],
  'document.pdf': ['not_an_image:error'],
  'login-page-saved-as.jpg': ['not_an_image:error'],
  'animated.gif': ['animated:error'],
  'animated.webp': ['animated:error'],
  'multi-page.tiff': ['multi_page:error'],
  'pixel-bomb.png': ['too_many_pixels:error'],
  'drawing.svg': ['unsupported_format:error'],
  'iphone-photo.heic': ['unsupported_format:error'],
  'bitmap.bmp': ['unsupported_format:error'],
  'tiny.jpg': ['too_small:error'],
  'sliver.png': ['too_small:error'],
  'cmyk.jpg': ['colour_space:warning'],
  'display-p3.jpg': [],
  '16-bit.png': [],
  'alpha.png': ['transparency:warning'],
  'exif-rotated.jpg': ['exif_rotated:warning'],
  'low-resolution.jpg': ['low_resolution:warning'],
  'very-dark.jpg': ['too_dark:warning'],
  'very-bright.jpg': ['too_bright:warning'],
  'blurred.jpg': ['blurry:warning'],
  'greyscale.jpg': ['greyscale:warning'],
  'selfie.webp': [],
  'selfie.avif': [],
  'selfie.tiff': ['low_resolution:warning'],
  'single-frame.gif': ['low_resolution:warning'],
  'jpeg-named.heic': ['extension_mismatch:warning'],
};

describe('fixtures/bad', () => {
  it('has an expectation for every file, and a file for every expectation', () => {
    expect(readdirSync(BAD).sort()).toEqual(Object.keys(BAD_FIXTURES).sort());
    expect(Object.keys(BAD_FIXTURES).length).toBeGreaterThanOrEqual(20);
  });

  it.each(Object.entries(BAD_FIXTURES))('%s → %j', async (name, expected) => {
    const report = await checkSelfie(`${BAD}${name}`, { kind: 'selfie' });
    expect(report.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(expected);
    expect(report.ok).toBe(!expected.some((e) => e.endsWith(':error')));
    for (const finding of report.findings) expect(finding.message.length).toBeGreaterThan(10);
  });
});

describe('fixtures/selfies', () => {
  it('demo.jpg (the quick-start image) has no findings at all', async () => {
    const report = await checkSelfie(`${GOOD}demo.jpg`, { kind: 'selfie' });
    expect(report).toMatchObject({ ok: true, format: 'jpeg', width: 640, height: 800, findings: [] });
  });

  it.each(readdirSync(GOOD).filter((f) => !f.startsWith('liveness')))('%s has no findings as a selfie', async (name) => {
    const report = await checkSelfie(`${GOOD}${name}`, { kind: 'selfie' });
    expect(report.findings).toEqual([]);
  });

  it.each(readdirSync(GOOD).filter((f) => f.startsWith('liveness')))('%s has no findings as a liveness frame', async (name) => {
    const report = await checkSelfie(`${GOOD}${name}`, { kind: 'liveness' });
    expect(report.findings).toEqual([]);
    // The same frame as a selfie is small, but still not an error.
    const asSelfie = await checkSelfie(`${GOOD}${name}`, { kind: 'selfie' });
    expect(asSelfie.findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['low_resolution:warning']);
  });
});
