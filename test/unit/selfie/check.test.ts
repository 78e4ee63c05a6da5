import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkSelfie, checkSelfieFiles, loadSelfieForUpload, mapBounded } from '../../../src/selfie/check.js';
import { BAD, GOOD } from './helpers.js';

describe('checkSelfieFiles', () => {
  it('returns one report per file, in input order, whatever finishes first', async () => {
    // Slow (large, decoded) and instant (empty, missing, refused) files interleaved.
    const paths = [
      `${GOOD}selfie-960x1200.jpg`,
      `${BAD}zero-bytes.jpg`,
      `${BAD}pixel-bomb.png`,
      `${GOOD}demo.jpg`,
      `${BAD}missing.jpg`,
      `${BAD}16-bit.png`,
      `${BAD}text-renamed.jpg`,
      `${GOOD}selfie-960x1200.jpg`,
    ];
    for (const concurrency of [1, 3, 8]) {
      const reports = await checkSelfieFiles(paths, { kind: 'selfie', concurrency });
      expect(reports.map((r) => r.path)).toEqual(paths);
    }
    const [first, , , , missing] = await checkSelfieFiles(paths, { kind: 'selfie' });
    expect(first).toMatchObject({ ok: true, format: 'jpeg', width: 960, height: 1200 });
    expect(missing).toMatchObject({
      ok: false,
      format: null,
      width: null,
      bytes: 0,
      findings: [{ code: 'unreadable', severity: 'error' }],
    });
  });

  it('checks every file of fixtures/ without throwing', async () => {
    const paths = [...readdirSync(GOOD).map((f) => `${GOOD}${f}`), ...readdirSync(BAD).map((f) => `${BAD}${f}`)];
    const reports = await checkSelfieFiles(paths, { kind: 'selfie', concurrency: 4 });
    expect(reports).toHaveLength(paths.length);
  });
});

describe('mapBounded', () => {
  it('never runs more than `concurrency` tasks at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (n, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve, n));
      for (let k = 0; k < n; k++) await Promise.resolve();
      running--;
      return n * 10 + i;
    });
    expect(peak).toBeLessThanOrEqual(3);
    expect(results).toEqual([50, 11, 42, 23, 34, 5, 66]);
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  });
});

describe('checkSelfie', () => {
  it('reports the format of non-images as what they are', async () => {
    expect(await checkSelfie(`${BAD}document.pdf`, { kind: 'selfie' })).toMatchObject({ format: 'pdf', ok: false });
    expect(await checkSelfie(`${BAD}login-page-saved-as.jpg`, { kind: 'selfie' })).toMatchObject({
      format: 'html',
      ok: false,
    });
    expect(await checkSelfie(`${BAD}zero-bytes.jpg`, { kind: 'selfie' })).toMatchObject({ format: null, bytes: 0 });
  });
});

describe('loadSelfieForUpload', () => {
  it('returns the original bytes of a good JPEG with its report', async () => {
    const loaded = await loadSelfieForUpload(`${GOOD}demo.jpg`, { kind: 'selfie' });
    expect(loaded.report).toMatchObject({ ok: true, findings: [] });
    expect(loaded.jpeg?.equals(await readFile(`${GOOD}demo.jpg`))).toBe(true);
    expect(loaded.prepared).toMatchObject({ changed: false });
  });

  it('returns a normalised JPEG and the warnings for a file that needs work', async () => {
    const loaded = await loadSelfieForUpload(`${BAD}exif-rotated.jpg`, { kind: 'selfie' });
    expect(loaded.report.findings.map((f) => f.code)).toEqual(['exif_rotated']);
    expect(loaded.prepared).toMatchObject({ changed: true, width: 640, height: 800 });
  });

  it('returns no JPEG when there is an error', async () => {
    for (const name of ['truncated.jpg', 'pixel-bomb.png', 'document.pdf', 'missing.jpg']) {
      const loaded = await loadSelfieForUpload(`${BAD}${name}`, { kind: 'liveness' });
      expect(loaded.report.ok).toBe(false);
      expect(loaded.jpeg).toBeUndefined();
    }
  });
});
