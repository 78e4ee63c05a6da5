// Pure rules: facts about a selfie file in, findings out. No sharp, no I/O, so that the
// thresholds can be tested on hand-made facts and reused by the emulator or a UI.
import { evaluateFaces } from './face-rules.js';
import type { FaceFindingCode } from './face-rules.js';
import type { SelfieFacts } from './inspect.js';
import {
  LARGE_FILE_BYTES,
  MAX_FILE_BYTES,
  MAX_INPUT_PIXELS,
  MAX_MEAN_LUMA,
  MAX_TRANSPARENT_SHARE,
  MIN_COLOURFULNESS,
  MIN_LAPLACIAN_VARIANCE,
  MIN_LONG_SIDE,
  MIN_MEAN_LUMA,
  MIN_SHORT_SIDE,
} from './limits.js';

export type Severity = 'error' | 'warning';
export type SelfieKind = 'selfie' | 'liveness';

/** Stable reason codes; they appear in `--json` output and never change meaning. */
export type FindingCode =
  | 'unreadable'
  | 'empty_file'
  | 'file_too_large'
  | 'not_an_image'
  | 'unsupported_format'
  | 'truncated'
  | 'corrupt'
  | 'animated'
  | 'multi_page'
  | 'too_many_pixels'
  | 'too_small'
  | 'too_dark'
  | 'too_bright'
  | 'blurry'
  | 'greyscale'
  | 'exif_rotated'
  | 'large_file'
  | 'low_resolution'
  | 'transparency'
  | 'colour_space'
  | 'extension_mismatch'
  | FaceFindingCode;

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
}

export interface EvaluateOptions {
  kind: SelfieKind;
}

/**
 * The blur measure the rules use: variance of the Laplacian, scaled up for dark images so that
 * exposure does not read as blur (see MIN_LAPLACIAN_VARIANCE).
 */
export function exposureAdjustedSharpness(stats: { laplacianVariance: number; meanLuma: number }): number {
  const luma = Math.min(128, Math.max(16, stats.meanLuma));
  return stats.laplacianVariance * (128 / luma) ** 2;
}

const FORMAT_NAMES: Record<string, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  gif: 'GIF',
  webp: 'WebP',
  tiff: 'TIFF',
  avif: 'AVIF',
  heif: 'HEIF',
  heic: 'HEIC',
  svg: 'SVG',
  pdf: 'PDF',
  bmp: 'BMP',
  jp2: 'JPEG 2000',
  jxl: 'JPEG XL',
  ico: 'ICO',
  psd: 'Photoshop',
  html: 'HTML',
  xml: 'XML',
  zip: 'ZIP',
  text: 'text',
};

/** A format's display name (`jpeg` → `JPEG`). */
export function formatName(format: string): string {
  return FORMAT_NAMES[format] ?? format.toUpperCase();
}

/** What the file extension promises; only extensions of image formats are listed. */
const EXTENSION_FORMATS: Record<string, string> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.jpe': 'jpeg',
  '.jfif': 'jpeg',
  '.png': 'png',
  '.gif': 'gif',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
  '.heic': 'heic',
  '.heif': 'heic',
  '.bmp': 'bmp',
  '.svg': 'svg',
  '.jp2': 'jp2',
  '.jxl': 'jxl',
};

const CONVERT_HINT = 'Export it as JPEG and try again.';

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Applies the selfie rules to inspected facts. Errors come first, then warnings. */
export function evaluateSelfie(facts: SelfieFacts, opts: EvaluateOptions): Finding[] {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const error = (code: FindingCode, message: string): void => void errors.push({ code, severity: 'error', message });
  const warn = (code: FindingCode, message: string): void => void warnings.push({ code, severity: 'warning', message });

  if (facts.readError) {
    const { code } = facts.readError;
    if (code === 'too_large')
      error(
        'file_too_large',
        `The file is ${mib(facts.bytes)}; files over ${MAX_FILE_BYTES / 1024 / 1024} MiB are not read. Use a smaller photo.`,
      );
    else if (code === 'missing')
      error(
        'unreadable',
        'The file does not exist. Check the path (relative paths in a bulk file are relative to that file).',
      );
    else if (code === 'directory')
      error('unreadable', 'This is a directory, not a file. Pass the image files themselves (e.g. DIR/*.jpg).');
    else if (code === 'not_a_file')
      error('unreadable', 'This is not a regular file (a device, pipe or socket). Pass an image file.');
    else if (code === 'permission')
      error('unreadable', 'The file cannot be read: permission denied. Check its permissions.');
    else error('unreadable', `The file cannot be read (${facts.readError.message}).`);
    return errors;
  }
  if (facts.bytes === 0) {
    error('empty_file', 'The file is empty (0 bytes). Copy or export the photo again.');
    return errors;
  }

  const decodeError = facts.decodeError;
  if (decodeError?.kind === 'not_an_image') {
    const what =
      facts.sniffed === 'unknown'
        ? 'not an image format that is recognised'
        : `${formatName(facts.sniffed)}, not an image`;
    error('not_an_image', `The file is ${what}. Pass a JPEG or PNG photo.`);
    return errors;
  }
  if (decodeError?.kind === 'unsupported') {
    const name = formatName(facts.format === 'heif' ? 'heic' : (facts.format ?? facts.sniffed));
    const why =
      facts.format === 'svg' || facts.sniffed === 'svg'
        ? 'SVG is a drawing, not a photo'
        : `${name} cannot be converted here`;
    const hint =
      name === 'HEIC'
        ? `${CONVERT_HINT} (On an iPhone, Settings > Camera > Formats > Most Compatible takes JPEGs.)`
        : CONVERT_HINT;
    error('unsupported_format', `Unsupported format: ${why}. ${hint}`);
    return errors;
  }

  const w = facts.width;
  const h = facts.height;
  if (facts.pages > 1) {
    if (facts.animated) error('animated', `The image is animated (${facts.pages} frames). Use a single still photo.`);
    else error('multi_page', `The file has ${facts.pages} pages. Use a file with a single photo.`);
  }
  if (facts.pixels !== null && facts.pixels > MAX_INPUT_PIXELS) {
    error(
      'too_many_pixels',
      `The image claims ${w}×${h} pixels (${(facts.pixels / 1_000_000).toFixed(0)} MP), over the ${MAX_INPUT_PIXELS / 1_000_000} MP limit; it was not decoded. Use a smaller photo.`,
    );
  }
  if (decodeError?.kind === 'truncated') {
    error(
      'truncated',
      'The file ends before the image data does (an interrupted download or copy?). Copy or export the photo again.',
    );
  } else if (decodeError?.kind === 'corrupt') {
    error('corrupt', `The image data is damaged (${decodeError.message}). Copy or export the photo again.`);
  }
  const tooSmall = w !== null && h !== null && Math.min(w, h) < MIN_SHORT_SIDE;
  if (tooSmall)
    error(
      'too_small',
      `The image is ${w}×${h}; its shorter side must be at least ${MIN_SHORT_SIDE} px. Use a larger photo.`,
    );

  // Warnings about the file itself.
  if (facts.bytes > LARGE_FILE_BYTES)
    warn('large_file', `The file is ${mib(facts.bytes)}; it is re-encoded to a smaller JPEG before upload.`);
  if (facts.orientation !== null && facts.orientation > 1 && facts.orientation <= 8) {
    warn(
      'exif_rotated',
      `The photo is stored rotated (EXIF orientation ${facts.orientation}); it is turned upright before upload. Check that it looks right.`,
    );
  }
  const minLong = MIN_LONG_SIDE[opts.kind];
  if (!tooSmall && w !== null && h !== null && Math.max(w, h) < minLong) {
    warn(
      'low_resolution',
      `The image is ${w}×${h}; a long side of at least ${minLong} px gives better ${opts.kind === 'liveness' ? 'liveness' : 'face'} matching.`,
    );
  }
  if (facts.space === 'cmyk' || facts.space === 'lab' || facts.space === 'labs' || facts.space === 'xyz') {
    warn(
      'colour_space',
      `The image is ${facts.space.toUpperCase()}; it is converted to sRGB before upload, and colours may shift.`,
    );
  }
  const expected = facts.extension === null ? undefined : EXTENSION_FORMATS[facts.extension];
  const actual = facts.format === 'heif' ? 'heic' : facts.format;
  if (expected !== undefined && actual !== null && expected !== actual) {
    warn(
      'extension_mismatch',
      `The name ends in ${facts.extension} but the content is ${formatName(actual)}; the content is what counts.`,
    );
  }

  // Warnings about the picture, when its pixels were decoded.
  // With an error the file is not sent: warnings would only distract from what to fix.
  if (errors.length > 0) return errors;
  const s = facts.stats;
  if (s) {
    if (s.transparentShare > MAX_TRANSPARENT_SHARE) {
      warn(
        'transparency',
        `${Math.round(s.transparentShare * 100)} % of the image is transparent; it becomes white before upload.`,
      );
    }
    const exposureBad = s.meanLuma < MIN_MEAN_LUMA || s.meanLuma > MAX_MEAN_LUMA;
    if (s.meanLuma < MIN_MEAN_LUMA)
      warn(
        'too_dark',
        `The photo is too dark (mean brightness ${Math.round(s.meanLuma)} of 255, minimum ${MIN_MEAN_LUMA}). Retake it in better light.`,
      );
    if (s.meanLuma > MAX_MEAN_LUMA)
      warn(
        'too_bright',
        `The photo is too bright (mean brightness ${Math.round(s.meanLuma)} of 255, maximum ${MAX_MEAN_LUMA}). Retake it out of direct light.`,
      );
    // Under- or over-exposure flattens edges too; one finding about the real problem is enough.
    const sharpness = exposureAdjustedSharpness(s);
    if (!exposureBad && sharpness < MIN_LAPLACIAN_VARIANCE) {
      warn(
        'blurry',
        `The photo looks blurry (sharpness ${sharpness.toFixed(0)}, minimum ${MIN_LAPLACIAN_VARIANCE}). Retake it holding the camera still, in focus.`,
      );
    }
    if (s.colourfulness < MIN_COLOURFULNESS)
      warn(
        'greyscale',
        'The photo has no colour (greyscale); Smile ID expects a colour photo. Use the original colour image.',
      );
  }
  if (facts.faceCheck) {
    for (const finding of evaluateFaces(facts.faceCheck, opts.kind))
      (finding.severity === 'error' ? errors : warnings).push(finding);
  }
  return [...errors, ...warnings];
}

/** True when any finding is an error (the file must not be sent). */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
