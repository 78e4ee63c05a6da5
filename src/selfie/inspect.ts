import { constants as fsConstants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';
import type { Metadata, SharpOptions } from 'sharp';
import { fileErrorKind, fileErrorReason } from '../errors.js';
import type { FileErrorKind } from '../errors.js';
import type { FaceCheck } from './face-rules.js';
import { detectFaces } from './faces.js';
import { readJpegHeader } from './jpeg-segments.js';
import type { JpegHeader } from './jpeg-segments.js';
import { MAX_FILE_BYTES, MAX_INPUT_PIXELS, STATS_SIZE } from './limits.js';

/** What the first bytes of a file say it is, independent of its name and of sharp. */
export type SniffedType =
  | 'empty'
  | 'jpeg'
  | 'png'
  | 'gif'
  | 'webp'
  | 'tiff'
  | 'avif'
  | 'heic'
  | 'jp2'
  | 'jxl'
  | 'bmp'
  | 'ico'
  | 'psd'
  | 'svg'
  | 'pdf'
  | 'html'
  | 'xml'
  | 'zip'
  | 'text'
  | 'unknown';

/** Pixel statistics of the image scaled to fit in STATS_SIZE × STATS_SIZE, alpha flattened onto white. */
export interface SelfieStats {
  sampleWidth: number;
  sampleHeight: number;
  /** Mean Rec. 601 luma of the gamma-encoded pixels, 0–255. */
  meanLuma: number;
  /** Variance of the 4-neighbour Laplacian of the luma (the usual blur measure). */
  laplacianVariance: number;
  /** Hasler–Süsstrunk colourfulness: 0 for a grey image, ~15–50 for ordinary colour photos. */
  colourfulness: number;
  /** Share of pixels with alpha below 50 %, 0 when there is no alpha channel. */
  transparentShare: number;
}

/** Why a file could not be read: the file-system kinds of errors.ts, or one of our own refusals. */
export type ReadErrorCode = FileErrorKind | 'not_a_file' | 'too_large';
export type DecodeErrorKind = 'truncated' | 'corrupt' | 'unsupported' | 'not_an_image';

/** Everything the rules need to know about one selfie file; plain data, safe to log or serialise. */
export interface SelfieFacts {
  /** The path inspected, or the name given with a Buffer, or null. */
  path: string | null;
  /** Lower-case extension of `path` including the dot (".heic"), or null. */
  extension: string | null;
  bytes: number;
  /** Set when the file could not be read at all; nothing else is known then. */
  readError: { code: ReadErrorCode; message: string } | null;
  sniffed: SniffedType;
  /** Set when the header or the pixel data could not be decoded. */
  decodeError: { kind: DecodeErrorKind; message: string } | null;
  /** sharp's format name (`jpeg`, `png`, `webp`, `gif`, `tiff`, `svg` …), `avif` for AV1 HEIF; null when unknown. */
  format: string | null;
  /** HEIF compression (`av1`, `hevc`), otherwise null. */
  compression: string | null;
  /** Width and height as displayed, i.e. with the EXIF orientation applied. */
  width: number | null;
  height: number | null;
  /** width × height of the stored image (one page). */
  pixels: number | null;
  pages: number;
  /** More than one page, with frame delays (GIF, WebP, AVIF sequences). */
  animated: boolean;
  orientation: number | null;
  /** libvips interpretation: `srgb`, `b-w`, `cmyk`, `rgb16`, `grey16`, `lab` … */
  space: string | null;
  channels: number | null;
  /** libvips band format: `uchar` (8 bit), `ushort` (16 bit) … */
  depth: string | null;
  hasAlpha: boolean;
  isProgressive: boolean;
  /** Description of the embedded ICC profile, null when there is none. */
  iccDescription: string | null;
  /** Metadata blocks present besides pixels: `exif`, `xmp`, `iptc`, `icc`, `comments`. */
  metadata: string[];
  /** False when the pixels were deliberately not decoded (too many pixels, animated, unsupported). */
  decoded: boolean;
  stats: SelfieStats | null;
  /** The faces found (or why none were looked for); null when the pixels were not decoded. */
  faceCheck: FaceCheck | null;
}

export interface InspectOptions {
  /** Name to report (and to take the extension from) when the input is a Buffer. */
  path?: string;
  /** Files larger than this are not read (default MAX_FILE_BYTES). */
  maxFileBytes?: number;
  /** False to leave the faces unchecked (--skip-face-check); the facts say it was skipped. */
  faces?: boolean;
}

/** A decode that takes longer than this is treated as corrupt (hostile progressive JPEGs can be slow). */
const DECODE_TIMEOUT_SECONDS = 20;

/** Formats sharp decodes that we turn into the JPEG that is sent. */
const CONVERTIBLE_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif']);

function emptyFacts(path: string | null, bytes: number): SelfieFacts {
  return {
    path,
    extension: path === null ? null : extname(path).toLowerCase() || null,
    bytes,
    readError: null,
    sniffed: bytes === 0 ? 'empty' : 'unknown',
    decodeError: null,
    format: null,
    compression: null,
    width: null,
    height: null,
    pixels: null,
    pages: 1,
    animated: false,
    orientation: null,
    space: null,
    channels: null,
    depth: null,
    hasAlpha: false,
    isProgressive: false,
    iccDescription: null,
    metadata: [],
    decoded: false,
    stats: null,
    faceCheck: null,
  };
}

/** Classifies the first bytes of a file. Only the first 512 bytes are looked at. */
export function sniffType(buf: Buffer): SniffedType {
  if (buf.length === 0) return 'empty';
  const b = (i: number): number => buf[i] ?? -1;
  const ascii = (start: number, end: number): string => buf.subarray(start, end).toString('latin1');
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(4, 8) === 'ftyp') {
    const brands = ascii(8, Math.min(buf.length, 8 + 32));
    if (/avi[fs]/.test(brands)) return 'avif';
    if (/hei[cxms]|hev[cx]|mif1|msf1/.test(brands)) return 'heic';
    return 'unknown';
  }
  if (ascii(0, 12) === '\0\0\0\x0cjP  \r\n\x87\n' || (b(0) === 0xff && b(1) === 0x4f && b(2) === 0xff && b(3) === 0x51))
    return 'jp2';
  if ((b(0) === 0xff && b(1) === 0x0a) || ascii(0, 12) === '\0\0\0\x0cJXL \r\n\x87\n') return 'jxl';
  if (ascii(0, 2) === 'BM' && buf.length >= 26) return 'bmp';
  if (b(0) === 0 && b(1) === 0 && (b(2) === 1 || b(2) === 2) && b(3) === 0) return 'ico';
  if (ascii(0, 4) === '8BPS') return 'psd';
  if (ascii(0, 5) === '%PDF-') return 'pdf';
  if (ascii(0, 4) === 'PK\x03\x04') return 'zip';
  const head = buf.subarray(0, 512);
  // Text: no NUL bytes and valid UTF-8 (a BOM is fine). Then look for markup.
  if (!head.includes(0) && isUtf8Prefix(head)) {
    const text = head
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart()
      .toLowerCase();
    if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg|<svg[\s>])/.test(text)) return 'svg';
    if (text.startsWith('<!doctype html') || text.startsWith('<html') || /<(head|body|title)[\s>]/.test(text))
      return 'html';
    if (text.startsWith('<?xml')) return 'xml';
    return 'text';
  }
  return 'unknown';
}

/** True when `bytes` is valid UTF-8, allowing a multi-byte sequence cut off at the end. */
function isUtf8Prefix(bytes: Buffer): boolean {
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i] ?? 0;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (len === 0) return false;
    if (len === 1 && c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) return false;
    for (let k = 1; k < len; k++) {
      if (i + k >= bytes.length) return true;
      if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return false;
    }
    i += len;
  }
  return true;
}

/** Reads the description tag of an ICC profile (v2 `desc` or v4 `mluc`); null if it cannot. */
export function iccProfileDescription(icc: Buffer): string | null {
  if (icc.length < 132) return null;
  const count = icc.readUInt32BE(128);
  for (let i = 0; i < count && 132 + i * 12 + 12 <= icc.length; i++) {
    const at = 132 + i * 12;
    if (icc.toString('latin1', at, at + 4) !== 'desc') continue;
    const offset = icc.readUInt32BE(at + 4);
    const size = icc.readUInt32BE(at + 8);
    if (offset + size > icc.length || size < 12) return null;
    const type = icc.toString('latin1', offset, offset + 4);
    if (type === 'desc') {
      const n = icc.readUInt32BE(offset + 8);
      return icc.toString('latin1', offset + 12, Math.min(offset + 12 + n, offset + size)).replace(/\0+$/, '');
    }
    if (type === 'mluc') {
      const records = icc.readUInt32BE(offset + 8);
      if (records < 1) return null;
      const len = icc.readUInt32BE(offset + 20);
      const start = offset + icc.readUInt32BE(offset + 24);
      if (start + len > icc.length) return null;
      const utf16be = Buffer.from(icc.subarray(start, start + len));
      return utf16be.swap16().toString('utf16le').replace(/\0+$/, '');
    }
    return null;
  }
  return null;
}

/** True for an ICC profile that describes sRGB (what we send needs none). */
export function isSrgbProfile(description: string | null): boolean {
  return description !== null && /srgb|iec\s*61966-2[.-]1/i.test(description);
}

/**
 * Reads a file for inspection. Returns the bytes, or facts that say why it could not be read
 * (missing, a directory, no permission, larger than MAX_FILE_BYTES: such a file is not read at all).
 */
export async function readSelfieFile(
  path: string,
  maxFileBytes = MAX_FILE_BYTES,
): Promise<{ buffer: Buffer } | { facts: SelfieFacts }> {
  let handle: FileHandle | undefined;
  try {
    // One open file for the size check and the read: no separate stat() on the hot path.
    // O_NONBLOCK: opening a FIFO must not wait for a writer (no effect on regular files).
    handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const info = await handle.stat();
    if (info.isDirectory()) return { facts: readFailure(path, 0, 'directory', 'is a directory') };
    // A FIFO or device (/dev/zero) would be read until memory runs out.
    if (!info.isFile()) return { facts: readFailure(path, 0, 'not_a_file', 'is not a regular file') };
    if (info.size > maxFileBytes) return { facts: readFailure(path, info.size, 'too_large', `is ${info.size} bytes`) };
    return { buffer: await handle.readFile() };
  } catch (error) {
    // Our own words (ELOOP → "too many symbolic links"), never Node's text with the raw path in it.
    return { facts: readFailure(path, 0, fileErrorKind(error), fileErrorReason(error)) };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function readFailure(path: string, bytes: number, code: ReadErrorCode, message: string): SelfieFacts {
  const facts = emptyFacts(path, bytes);
  facts.sniffed = 'unknown';
  facts.readError = { code, message };
  return facts;
}

/**
 * Inspects a selfie: file size, header metadata and pixel statistics. Never throws for a bad
 * file: unreadable, corrupt or unsupported input is described in the returned facts. Pixel bombs
 * are refused from the header alone, before any pixel is decoded.
 */
export async function inspectSelfie(input: string | Buffer, opts: InspectOptions = {}): Promise<SelfieFacts> {
  let buffer: Buffer;
  let path: string | null;
  if (typeof input === 'string') {
    const read = await readSelfieFile(input, opts.maxFileBytes);
    if ('facts' in read) return read.facts;
    buffer = read.buffer;
    path = input;
  } else {
    buffer = input;
    path = opts.path ?? null;
  }
  return inspectSelfieBuffer(buffer, path, MAX_INPUT_PIXELS, opts.faces ?? true);
}

async function inspectSelfieBuffer(
  buf: Buffer,
  path: string | null,
  maxInputPixels: number,
  faces: boolean,
): Promise<SelfieFacts> {
  const facts = emptyFacts(path, buf.length);
  if (buf.length === 0) return facts;
  facts.sniffed = sniffType(buf);
  if (facts.sniffed === 'svg') {
    // Never hand SVG to the renderer: a drawing is not a photo, and rendering is a risk of its own.
    facts.format = 'svg';
    facts.decodeError = { kind: 'unsupported', message: 'SVG is a vector drawing' };
    return facts;
  }

  // JPEG headers are read in JavaScript: one decoder call fewer on the hot path of bulk imports.
  const jpeg = facts.sniffed === 'jpeg' ? readJpegHeader(buf) : null;
  if (jpeg !== null) {
    applyJpegHeader(facts, jpeg);
  } else {
    try {
      // metadata() reads headers only; the pixel limit is applied by us below, so that the facts
      // can still say how big a refused image claims to be.
      applyMetadata(facts, await sharp(buf, { limitInputPixels: false, failOn: 'none' }).metadata());
    } catch (error) {
      facts.decodeError = classifyHeaderError(facts.sniffed, buf, error);
      return facts;
    }
  }

  if (facts.format === null || !CONVERTIBLE_FORMATS.has(facts.format)) {
    facts.decodeError = {
      kind: facts.format === 'pdf' ? 'not_an_image' : 'unsupported',
      message: `${facts.format ?? 'unknown'} format`,
    };
    return facts;
  }
  if (facts.pages > 1) return facts;
  if ((facts.pixels ?? 0) > maxInputPixels) return facts;

  // The face check's own decode runs beside the statistics decode (both on libvips' threads); if
  // the photo does not decode, its face check is dropped unreported (checkFaces never rejects).
  const faceCheck = faces ? checkFaces(buf, maxInputPixels) : undefined;
  try {
    facts.stats = await decodeStats(buf, maxInputPixels);
    facts.decoded = true;
  } catch (error) {
    facts.decodeError = classifyDecodeError(facts.format, buf, error);
    return facts;
  }
  facts.faceCheck = faceCheck ? await faceCheck : { state: 'skipped' };
  return facts;
}

/** Runs the face detector; a detector that cannot run here is reported, not thrown. */
async function checkFaces(buf: Buffer, maxInputPixels: number): Promise<FaceCheck> {
  try {
    return { state: 'done', facts: await detectFaces(buf, maxInputPixels) };
  } catch (error) {
    return { state: 'unavailable', reason: decoderMessage(error) };
  }
}

function applyJpegHeader(facts: SelfieFacts, header: JpegHeader): void {
  const swap = header.orientation !== null && header.orientation >= 5;
  facts.format = 'jpeg';
  facts.width = swap ? header.height : header.width;
  facts.height = swap ? header.width : header.height;
  facts.pixels = header.width * header.height;
  facts.orientation = header.orientation;
  // libvips' interpretation of a JPEG: YCbCr and RGB are both sRGB, 4 components are CMYK.
  facts.space = header.components === 1 ? 'b-w' : header.components === 4 ? 'cmyk' : 'srgb';
  facts.channels = header.components;
  facts.depth = 'uchar';
  facts.isProgressive = header.progressive;
  facts.iccDescription = header.icc ? (iccProfileDescription(header.icc) ?? 'unnamed profile') : null;
  facts.metadata = header.metadata;
}

function applyMetadata(facts: SelfieFacts, meta: Metadata): void {
  const compression = meta.compression ?? null;
  facts.format = meta.format === 'heif' && compression === 'av1' ? 'avif' : String(meta.format);
  facts.compression = compression;
  facts.width = meta.autoOrient.width;
  facts.height = meta.autoOrient.height;
  facts.pixels = meta.width * meta.height;
  facts.pages = meta.pages ?? 1;
  facts.animated = facts.pages > 1 && (meta.delay !== undefined || meta.loop !== undefined || facts.format === 'gif');
  facts.orientation = meta.orientation ?? null;
  facts.space = meta.space;
  facts.channels = meta.channels;
  facts.depth = meta.depth;
  facts.hasAlpha = meta.hasAlpha;
  facts.isProgressive = meta.isProgressive;
  facts.iccDescription = meta.icc ? (iccProfileDescription(meta.icc) ?? 'unnamed profile') : null;
  const blocks: string[] = [];
  if (meta.exif) blocks.push('exif');
  if (meta.xmp) blocks.push('xmp');
  if (meta.iptc) blocks.push('iptc');
  if (meta.icc) blocks.push('icc');
  if (meta.comments && meta.comments.length > 0) blocks.push('comments');
  facts.metadata = blocks;
}

/** Decoder options for untrusted input: any libjpeg/libpng warning (truncation, corrupt data) is an error. */
export function untrustedInput(maxInputPixels: number): SharpOptions {
  return { failOn: 'warning', limitInputPixels: maxInputPixels, sequentialRead: true };
}

async function decodeStats(buf: Buffer, maxInputPixels: number): Promise<SelfieStats> {
  // Shrink-on-load (JPEG, WebP) decodes at 1/2 … 1/8 scale; the whole entropy-coded stream is
  // still read, so truncation and corrupt data are still caught.
  const { data, info } = await sharp(buf, untrustedInput(maxInputPixels))
    .resize(STATS_SIZE, STATS_SIZE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
    .toBuffer({ resolveWithObject: true });
  return pixelStats(data, info.width, info.height, info.channels);
}

/** Luma, Laplacian variance and colourfulness of raw 8-bit sRGB(A) pixels; alpha flattened onto white. */
export function pixelStats(data: Uint8Array, width: number, height: number, channels: number): SelfieStats {
  const n = width * height;
  const luma = new Float64Array(n);
  let sumLuma = 0;
  let sumRg = 0;
  let sumYb = 0;
  let sumRg2 = 0;
  let sumYb2 = 0;
  let transparent = 0;
  const hasAlpha = channels === 4 || channels === 2;
  const colour = channels >= 3;
  if (channels === 3) {
    // The common case, without per-pixel branches (this loop is on the hot path of bulk checks).
    for (let p = 0, i = 0; p < n; p++, i += 3) {
      const r = data[i] as number;
      const g = data[i + 1] as number;
      const b = data[i + 2] as number;
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      luma[p] = y;
      sumLuma += y;
      const rg = r - g;
      const yb = 0.5 * (r + g) - b;
      sumRg += rg;
      sumYb += yb;
      sumRg2 += rg * rg;
      sumYb2 += yb * yb;
    }
  } else {
    for (let p = 0, i = 0; p < n; p++, i += channels) {
      let r = data[i] ?? 0;
      let g = colour ? (data[i + 1] ?? 0) : r;
      let b = colour ? (data[i + 2] ?? 0) : r;
      if (hasAlpha) {
        const a = (data[i + channels - 1] ?? 255) / 255;
        if (a < 0.5) transparent++;
        const white = 255 * (1 - a);
        r = r * a + white;
        g = g * a + white;
        b = b * a + white;
      }
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      luma[p] = y;
      sumLuma += y;
      const rg = r - g;
      const yb = 0.5 * (r + g) - b;
      sumRg += rg;
      sumYb += yb;
      sumRg2 += rg * rg;
      sumYb2 += yb * yb;
    }
  }
  let lapSum = 0;
  let lapSum2 = 0;
  let lapCount = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let c = row + 1, end = row + width - 1; c < end; c++) {
      const l =
        4 * (luma[c] as number) -
        (luma[c - 1] as number) -
        (luma[c + 1] as number) -
        (luma[c - width] as number) -
        (luma[c + width] as number);
      lapSum += l;
      lapSum2 += l * l;
    }
    lapCount += Math.max(0, width - 2);
  }
  const meanRg = sumRg / n;
  const meanYb = sumYb / n;
  const varRg = Math.max(0, sumRg2 / n - meanRg * meanRg);
  const varYb = Math.max(0, sumYb2 / n - meanYb * meanYb);
  const lapMean = lapCount > 0 ? lapSum / lapCount : 0;
  return {
    sampleWidth: width,
    sampleHeight: height,
    meanLuma: n > 0 ? sumLuma / n : 0,
    laplacianVariance: lapCount > 0 ? Math.max(0, lapSum2 / lapCount - lapMean * lapMean) : 0,
    colourfulness: Math.sqrt(varRg + varYb) + 0.3 * Math.sqrt(meanRg * meanRg + meanYb * meanYb),
    transparentShare: hasAlpha && n > 0 ? transparent / n : 0,
  };
}

const IMAGE_TYPES_SHARP_READS = new Set<SniffedType>(['jpeg', 'png', 'gif', 'webp', 'tiff', 'avif']);
const IMAGE_TYPES_WE_CANNOT_READ = new Set<SniffedType>(['heic', 'jp2', 'jxl', 'bmp', 'ico', 'psd', 'svg']);

function classifyHeaderError(
  sniffed: SniffedType,
  buf: Buffer,
  error: unknown,
): { kind: DecodeErrorKind; message: string } {
  const message = decoderMessage(error);
  if (IMAGE_TYPES_SHARP_READS.has(sniffed))
    return { kind: looksTruncated(sniffed, buf) ? 'truncated' : 'corrupt', message };
  if (IMAGE_TYPES_WE_CANNOT_READ.has(sniffed)) return { kind: 'unsupported', message: `${sniffed} format` };
  return { kind: 'not_an_image', message };
}

function classifyDecodeError(format: string, buf: Buffer, error: unknown): { kind: DecodeErrorKind; message: string } {
  const message = decoderMessage(error);
  if (/timeout/i.test(message))
    return { kind: 'corrupt', message: `decoding took longer than ${DECODE_TIMEOUT_SECONDS} s` };
  if (/corrupt jpeg data/i.test(message)) return { kind: 'corrupt', message };
  const sniffed: SniffedType = IMAGE_TYPES_SHARP_READS.has(format as SniffedType) ? (format as SniffedType) : 'unknown';
  if (looksTruncated(sniffed, buf) || /premature end of jpeg (image|file)|truncated|unexpected end/i.test(message))
    return { kind: 'truncated', message };
  return { kind: 'corrupt', message };
}

/** Structural end-of-file check: a JPEG ends with EOI (FFD9), a PNG with an IEND chunk. */
export function looksTruncated(type: SniffedType, buf: Buffer): boolean {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--; // some writers pad with zeros
  if (type === 'jpeg') return !(buf[end - 2] === 0xff && buf[end - 1] === 0xd9);
  if (type === 'png') return buf.lastIndexOf('IEND', undefined, 'latin1') < Math.max(0, buf.length - 64);
  return false;
}

/** First line of a decoder error, without file paths, at most 160 characters. */
function decoderMessage(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const first = (raw.split('\n')[0] ?? '').replace(/(^|\s)\/[^\s:]+:\s*/g, '$1').trim();
  return first.length > 160 ? `${first.slice(0, 157)}...` : first;
}
