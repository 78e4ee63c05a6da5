import { stat } from 'node:fs/promises';
import { MAX_FILE_BYTES, MAX_INPUT_PIXELS } from '../selfie/limits.js';

/** The long side of a thumbnail in the HTML report, in pixels. */
export const THUMBNAIL_SIZE = 96;

/** How many thumbnails a report embeds at most (the rows that need attention, in input order). */
export const THUMBNAIL_CAP = 200;

/**
 * A selfie as a small JPEG data: URI for the HTML report: EXIF orientation applied, at most
 * THUMBNAIL_SIZE px on its long side, re-encoded by sharp (which keeps no EXIF, GPS, ICC or any
 * other metadata unless asked), so the page carries a picture and nothing else of the file.
 * Undefined when the file cannot be read as an image (the page says so instead).
 */
export async function thumbnailDataUri(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size === 0 || info.size > MAX_FILE_BYTES) return undefined;
    const { default: sharp } = await import('sharp');
    const jpeg = await sharp(path, { failOn: 'none', limitInputPixels: MAX_INPUT_PIXELS, pages: 1 })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 70, mozjpeg: true })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return undefined;
  }
}
