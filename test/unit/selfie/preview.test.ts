import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderHalfBlockPreview } from '../../../src/selfie/preview.js';
import { BAD, GOOD } from './helpers.js';

describe('renderHalfBlockPreview', () => {
  it('draws two pixel rows per line with 24-bit colours', async () => {
    const preview = await renderHalfBlockPreview(`${GOOD}demo.jpg`, { width: 24, color: true });
    const lines = preview.split('\n');
    // 640×800 at 24 columns is 24×30 pixels: 15 lines of 24 half blocks.
    expect(lines).toHaveLength(15);
    for (const line of lines) {
      expect(line.match(/▀/g)).toHaveLength(24);
      expect(line.endsWith('\u001b[0m')).toBe(true);
    }
    // eslint-disable-next-line no-control-regex -- matching ANSI escapes is the point
    expect(preview).toMatch(/\u001b\[38;2;\d+;\d+;\d+m\u001b\[48;2;\d+;\d+;\d+m▀/);
  });

  it('falls back to greyscale ASCII without colour', async () => {
    const preview = await renderHalfBlockPreview(await readFile(`${GOOD}demo.jpg`), { width: 20, color: false });
    const lines = preview.split('\n');
    expect(lines).toHaveLength(13); // 20×25 pixels, the odd last row on its own line
    expect(lines.every((l) => l.length === 20)).toBe(true);
    expect(preview).not.toContain('\u001b');
    expect(new Set(preview.replace(/\n/g, '')).size).toBeGreaterThan(3);
  });

  it('applies EXIF orientation and returns "" for what it cannot read', async () => {
    const rotated = await renderHalfBlockPreview(`${BAD}exif-rotated.jpg`, { width: 24, color: false });
    expect(rotated.split('\n')).toHaveLength(15);
    expect(await renderHalfBlockPreview(`${BAD}truncated.jpg`, { width: 24, color: true })).toBe('');
    expect(await renderHalfBlockPreview(`${BAD}text-renamed.jpg`, { width: 24, color: true })).toBe('');
    expect(await renderHalfBlockPreview(`${BAD}pixel-bomb.png`, { width: 24, color: true })).toBe('');
  });
});
