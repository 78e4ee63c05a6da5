/** Reads an uploaded job zip the way the emulator judges it: never throws, whatever the bytes. */
import { unzipSync } from 'fflate';
import { readJpegHeader } from '../selfie/jpeg-segments.js';
import type { ZipReceipt } from './state.js';

/** Largest entry the emulator will inflate, and the largest total (zip bombs stay small here). */
const MAX_ENTRY_BYTES = 50 * 1024 * 1024;
const MAX_TOTAL_BYTES = 200 * 1024 * 1024;

export type ZipInspection = Omit<ZipReceipt, 'receivedAt' | 'bytes'> & { selfieBytes: Uint8Array | null };

export const ZIP_CORRUPT = { code: '0903', text: 'Zip Corrupt' } as const;
// 2203 is an error code (no Smile Job ID) on the real service; the emulator reports it as a rejected
// job result instead, since the zip has already been accepted by the PUT by then. UNVERIFIED.
export const INVALID_INFO_JSON = { code: '2203', text: 'Invalid JSON' } as const;
export const SELFIE_UNUSABLE = { code: '0001', text: 'Selfie image unusable' } as const;

/** True when the bytes start like a JPEG (SOI marker + next marker). */
export function isJpeg(bytes: Uint8Array | null | undefined): boolean {
  return !!bytes && bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function basename(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}

/** `image_type_id` arrives as an int (server SDKs) or a string (mobile SDKs). */
function imageTypeOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return null;
}

function decodeBase64Image(value: string): Uint8Array {
  const comma = value.startsWith('data:') ? value.indexOf(',') : -1;
  return Buffer.from(comma >= 0 ? value.slice(comma + 1) : value, 'base64');
}

function empty(
  problem: ZipReceipt['problem'],
  entries: string[] = [],
  entrySizes: Record<string, number> = {},
  info: unknown = null,
): ZipInspection {
  return {
    entries,
    entrySizes,
    info,
    selfie: null,
    livenessFrames: 0,
    livenessFrameSizes: [],
    problem,
    selfieBytes: null,
  };
}

/** Unzips and judges a job zip: info.json, a JPEG selfie (type 0 file or type 2 base64), liveness frames (4/6). */
export function inspectUploadedZip(bytes: Uint8Array): ZipInspection {
  let files: Record<string, Uint8Array>;
  try {
    let total = 0;
    files = unzipSync(bytes, {
      filter: (file) => {
        total += file.originalSize;
        if (file.originalSize > MAX_ENTRY_BYTES || total > MAX_TOTAL_BYTES) throw new Error('zip entry too large');
        return true;
      },
    });
  } catch (error) {
    return empty({
      ...ZIP_CORRUPT,
      detail: `the upload is not a readable zip (${error instanceof Error ? error.message : String(error)})`,
    });
  }
  const entries = Object.keys(files);
  const entrySizes = Object.fromEntries(entries.map((name) => [name, files[name]?.length ?? 0]));
  const findEntry = (fileName: string): string | undefined =>
    entries.find((name) => name === fileName) ?? entries.find((name) => basename(name) === basename(fileName));

  const infoName = entries.includes('info.json') ? 'info.json' : entries.find((name) => basename(name) === 'info.json');
  if (infoName === undefined) {
    return empty({ ...INVALID_INFO_JSON, detail: 'the zip has no info.json' }, entries, entrySizes);
  }
  let info: unknown;
  try {
    info = JSON.parse(Buffer.from(files[infoName] ?? new Uint8Array()).toString('utf8'));
  } catch {
    return empty({ ...INVALID_INFO_JSON, detail: 'info.json is not valid JSON' }, entries, entrySizes);
  }
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    return empty({ ...INVALID_INFO_JSON, detail: 'info.json is not a JSON object' }, entries, entrySizes, info);
  }

  const rawImages = (info as { images?: unknown }).images;
  const images = Array.isArray(rawImages) ? rawImages : [];
  let selfie: ZipReceipt['selfie'] = null;
  let selfieBytes: Uint8Array | null = null;
  let livenessFrames = 0;
  const livenessFrameSizes: NonNullable<ZipReceipt['livenessFrameSizes']> = [];
  // Frame sizes are recorded, not judged: what the server does with other sizes is UNVERIFIED.
  const sizeOf = (bytes: Uint8Array | undefined): { width: number; height: number } | null => {
    const header = bytes ? readJpegHeader(Buffer.from(bytes)) : null;
    return header ? { width: header.width, height: header.height } : null;
  };
  const complaints: string[] = [];
  for (const image of images) {
    if (image === null || typeof image !== 'object') continue;
    const { image_type_id: rawType, file_name: rawFileName, image: rawImage } = image as Record<string, unknown>;
    const type = imageTypeOf(rawType);
    const fileName = typeof rawFileName === 'string' ? rawFileName : '';
    const base64 = typeof rawImage === 'string' ? rawImage : '';
    if (type === 0) {
      const entry = fileName === '' ? undefined : findEntry(fileName);
      if (entry === undefined)
        complaints.push(
          fileName === '' ? 'a type 0 selfie has no file_name' : `selfie file ${fileName} is not in the zip`,
        );
      else if (!isJpeg(files[entry])) complaints.push(`selfie file ${entry} is not a JPEG`);
      else if (!selfie) {
        selfie = { source: 'file', entry };
        selfieBytes = files[entry] ?? null;
      }
    } else if (type === 2) {
      const decoded = base64 === '' ? null : decodeBase64Image(base64);
      if (!decoded) complaints.push('a type 2 selfie has no base64 image');
      else if (!isJpeg(decoded)) complaints.push('the base64 selfie is not a JPEG');
      else if (!selfie) {
        selfie = { source: 'base64' };
        selfieBytes = decoded;
      }
    } else if (type === 4) {
      const entry = fileName === '' ? undefined : findEntry(fileName);
      if (entry !== undefined) {
        livenessFrames += 1;
        livenessFrameSizes.push(sizeOf(files[entry]));
      }
    } else if (type === 6) {
      if (base64 !== '') {
        livenessFrames += 1;
        livenessFrameSizes.push(sizeOf(decodeBase64Image(base64)));
      }
    }
  }
  const problem = selfie
    ? null
    : {
        ...SELFIE_UNUSABLE,
        detail: complaints.length > 0 ? complaints.join('; ') : 'info.json lists no selfie (image_type_id 0 or 2)',
      };
  return { entries, entrySizes, info, selfie, livenessFrames, livenessFrameSizes, problem, selfieBytes };
}
