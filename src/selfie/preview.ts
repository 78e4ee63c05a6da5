import sharp from 'sharp';
import { MAX_INPUT_PIXELS } from './limits.js';

export interface PreviewOptions {
  /** Width in terminal columns (one pixel per column). */
  width: number;
  /** 24-bit colour half blocks when true; a greyscale ASCII ramp when false. */
  color: boolean;
}

/** Dark to light; on the usual dark terminal background, denser characters read as brighter. */
const ASCII_RAMP = ' .:-=+*#%@';

/**
 * A small picture of an image for the terminal: each text line shows two pixel rows with '▀'
 * (foreground = upper pixel, background = lower pixel) in 24-bit ANSI colour. Without colour it
 * falls back to a greyscale ASCII ramp. Lines are joined by '\n' with no trailing newline; returns
 * '' when the image cannot be read, so a UI never fails because of its preview.
 */
export async function renderHalfBlockPreview(input: string | Buffer, opts: PreviewOptions): Promise<string> {
  const columns = Math.max(1, Math.floor(opts.width));
  let data: Buffer;
  let width: number;
  let height: number;
  try {
    const result = await sharp(input, { failOn: 'warning', limitInputPixels: MAX_INPUT_PIXELS, pages: 1 })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      // Terminal cells are about twice as tall as wide: one column ≈ two half-block rows, so
      // pixels come out square when the image keeps its aspect ratio at `columns` pixels wide.
      .resize({ width: columns, withoutEnlargement: false })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    data = result.data;
    width = result.info.width;
    height = result.info.height;
    if (result.info.channels !== 3) return '';
  } catch {
    return '';
  }
  const px = (x: number, y: number): [number, number, number] => {
    const i = (y * width + x) * 3;
    return [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
  };
  const lines: string[] = [];
  for (let y = 0; y < height; y += 2) {
    let line = '';
    for (let x = 0; x < width; x++) {
      const top = px(x, y);
      const bottom = y + 1 < height ? px(x, y + 1) : null;
      if (opts.color) {
        line += `\u001b[38;2;${top.join(';')}m`;
        line += bottom ? `\u001b[48;2;${bottom.join(';')}m▀` : '\u001b[49m▀';
      } else {
        const luma = (c: [number, number, number]): number => 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
        const l = bottom ? (luma(top) + luma(bottom)) / 2 : luma(top);
        line += ASCII_RAMP[Math.min(ASCII_RAMP.length - 1, Math.floor((l / 256) * ASCII_RAMP.length))] ?? ' ';
      }
    }
    lines.push(opts.color ? `${line}\u001b[0m` : line);
  }
  return lines.join('\n');
}
