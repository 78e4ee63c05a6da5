import sharp from 'sharp';
import { InputError, fileErrorReason, printable } from '../errors.js';
import { writeFileAtomically } from '../fs/atomic.js';
import { inspectSelfie, isSrgbProfile, readSelfieFile, untrustedInput } from './inspect.js';
import type { SelfieFacts } from './inspect.js';
import { readJpegHeader, stripJpegMetadata } from './jpeg-segments.js';
import { LARGE_FILE_BYTES, MAX_INPUT_PIXELS, MAX_LONG_SIDE } from './limits.js';
import { evaluateSelfie, formatName, hasErrors } from './rules.js';
import type { Finding, SelfieKind } from './rules.js';

/** The JPEG that is sent for one selfie or liveness frame, and what was done to make it. */
export interface PreparedSelfie {
  jpeg: Buffer;
  /** False when `jpeg` is the input, byte for byte. */
  changed: boolean;
  /** What was done, for people: "applied EXIF orientation 6", "resized 4032×3024 → 1280×960" … */
  changes: string[];
  width: number;
  height: number;
  bytes: number;
  sourceBytes: number;
}

export interface PrepareOptions {
  kind: SelfieKind;
  /** Name for messages when the input is a Buffer. */
  path?: string;
}

/** Encoder settings for what is sent: quality 90 keeps faces crisp; mozjpeg is off because it is ~3× slower. */
export const UPLOAD_JPEG_QUALITY = 90;

/**
 * Normalises a selfie to the JPEG that is sent (EXIF orientation applied, metadata stripped, sRGB,
 * alpha flattened onto white, long side ≤ 1280 px or ≤ 320 px for liveness frames). A file that
 * already is such a JPEG is returned byte for byte. Throws InputError when the checks find errors.
 */
export async function prepareSelfie(input: string | Buffer, opts: PrepareOptions): Promise<PreparedSelfie> {
  let buffer: Buffer;
  let facts: SelfieFacts;
  const name = typeof input === 'string' ? input : (opts.path ?? 'image');
  if (typeof input === 'string') {
    const read = await readSelfieFile(input);
    if ('facts' in read) throw selfieInputError(name, evaluateSelfie(read.facts, opts));
    buffer = read.buffer;
    facts = await inspectSelfie(buffer, { path: input });
  } else {
    buffer = input;
    facts = await inspectSelfie(buffer, { path: opts.path });
  }
  const findings = evaluateSelfie(facts, opts);
  if (hasErrors(findings)) throw selfieInputError(name, findings);
  return prepareInspectedSelfie(buffer, facts, opts.kind);
}

/** Writes a prepared JPEG to `path` atomically (never left half-written); a failure is an InputError naming the file. */
export async function writePreparedSelfie(path: string, jpeg: Buffer): Promise<void> {
  try {
    await writeFileAtomically(path, jpeg);
  } catch (error) {
    throw new InputError(`Cannot write ${printable(path)}: ${fileErrorReason(error)}.`, {
      cause: error,
      hint: 'Check that the directory exists and is writable.',
    });
  }
}

/** The InputError for a selfie whose checks found errors; `details.findings` lists them all. */
export function selfieInputError(name: string, findings: readonly Finding[]): InputError {
  const first = findings.find((f) => f.severity === 'error');
  return new InputError(`${printable(name, 500)}: ${first?.message ?? 'the image cannot be used'}`, {
    code: `selfie_${first?.code ?? 'invalid'}`,
    hint: 'Run `smile selfie check FILE` to see every finding.',
    details: { path: name, findings },
  });
}

/** Why an image must be re-encoded; empty for a JPEG that can be sent as it is (after lossless metadata stripping). */
export function reasonsToReencode(facts: SelfieFacts, kind: SelfieKind): string[] {
  const reasons: string[] = [];
  const format = facts.format ?? 'unknown';
  if (format !== 'jpeg') reasons.push(`converted ${formatName(format)} to JPEG`);
  if (facts.orientation !== null && facts.orientation > 1)
    reasons.push(`applied EXIF orientation ${facts.orientation}`);
  const w = facts.width ?? 0;
  const h = facts.height ?? 0;
  const max = MAX_LONG_SIDE[kind];
  if (Math.max(w, h) > max) {
    const scale = max / Math.max(w, h);
    reasons.push(`resized ${w}×${h} → ${Math.round(w * scale)}×${Math.round(h * scale)}`);
  }
  if (facts.hasAlpha) reasons.push('removed the alpha channel (transparent pixels become white)');
  if (facts.depth !== null && facts.depth !== 'uchar')
    reasons.push(`reduced ${facts.depth === 'ushort' ? '16-bit' : facts.depth} samples to 8-bit`);
  if (facts.space === 'b-w' || facts.space === 'grey16') reasons.push('converted greyscale to 3-channel sRGB');
  else if (facts.space !== null && facts.space !== 'srgb' && facts.space !== 'rgb16' && facts.space !== 'rgb')
    reasons.push(`converted ${facts.space.toUpperCase()} to sRGB`);
  if (facts.iccDescription !== null && !isSrgbProfile(facts.iccDescription))
    reasons.push(`converted colour profile "${facts.iccDescription}" to sRGB`);
  return reasons;
}

/**
 * Prepares an image whose facts were already inspected (and had no errors), decoding it at most
 * once more: a JPEG that needs nothing but metadata removal is not decoded at all.
 */
export async function prepareInspectedSelfie(
  buffer: Buffer,
  facts: SelfieFacts,
  kind: SelfieKind,
): Promise<PreparedSelfie> {
  const reasons = reasonsToReencode(facts, kind);
  if (reasons.length === 0) {
    // Only Huffman-coded 8-bit JPEGs (baseline or progressive) go out as they are: readJpegHeader
    // refuses arithmetic-coded, lossless and 12-bit ones, which not every decoder reads.
    const stripped = readJpegHeader(buffer) === null ? null : stripJpegMetadata(buffer);
    if (stripped !== null && stripped.jpeg.length <= LARGE_FILE_BYTES) {
      const changed = stripped.jpeg !== buffer;
      return {
        jpeg: stripped.jpeg,
        changed,
        changes: changed ? [`removed metadata (${stripped.removed.join(', ')}) without re-encoding`] : [],
        width: facts.width ?? 0,
        height: facts.height ?? 0,
        bytes: stripped.jpeg.length,
        sourceBytes: buffer.length,
      };
    }
    reasons.push(
      stripped === null
        ? 're-encoded an unusual JPEG (arithmetic-coded, lossless, 12-bit or malformed)'
        : `re-encoded a ${(buffer.length / 1024 / 1024).toFixed(1)} MiB file`,
    );
  }
  const removed = facts.metadata.filter((m) => m !== 'icc');
  if (removed.length > 0) reasons.push(`removed metadata (${removed.map((m) => m.toUpperCase()).join(', ')})`);
  const max = MAX_LONG_SIDE[kind];
  let pipeline = sharp(buffer, untrustedInput(MAX_INPUT_PIXELS))
    .autoOrient()
    .resize({ width: max, height: max, fit: 'inside', withoutEnlargement: true });
  if (facts.hasAlpha) pipeline = pipeline.flatten({ background: '#ffffff' });
  // No withMetadata(): sharp then drops EXIF/XMP/ICC and converts any embedded profile to sRGB.
  const { data, info } = await pipeline
    .toColourspace('srgb')
    .jpeg({ quality: UPLOAD_JPEG_QUALITY, mozjpeg: false })
    .toBuffer({ resolveWithObject: true });
  return {
    jpeg: data,
    changed: true,
    changes: reasons,
    width: info.width,
    height: info.height,
    bytes: data.length,
    sourceBytes: buffer.length,
  };
}
