// Lossless removal of metadata from a JPEG by copying only the segments a decoder needs. This lets
// a good phone JPEG lose its EXIF (GPS, device) without being re-encoded, so no quality is lost.

export interface StrippedJpeg {
  jpeg: Buffer;
  /** Human names of what was removed: `EXIF`, `XMP`, `MPF`, `comment`, `APP13`, `trailing data` … */
  removed: string[];
}

/** APPn segments a decoder may need: JFIF (APP0), ICC profile (APP2), Adobe colour transform (APP14). */
function keepAppSegment(marker: number, body: Buffer): boolean {
  const id = body.toString('latin1', 0, Math.min(body.length, 12));
  if (marker === 0xe0) return id.startsWith('JFIF\0');
  if (marker === 0xe2) return id.startsWith('ICC_PROFILE\0');
  if (marker === 0xee) return id.startsWith('Adobe');
  return false;
}

function describeAppSegment(marker: number, body: Buffer): string {
  const id = body.toString('latin1', 0, Math.min(body.length, 29));
  if (marker === 0xe1 && id.startsWith('Exif\0')) return 'EXIF';
  if (marker === 0xe1 && id.startsWith('http://ns.adobe.com/xap/1.0/')) return 'XMP';
  if (marker === 0xe1 && id.startsWith('http://ns.adobe.com/xmp/extens')) return 'XMP';
  if (marker === 0xe2 && id.startsWith('MPF\0')) return 'MPF';
  if (marker === 0xed) return 'IPTC';
  if (marker === 0xe0 && id.startsWith('JFXX')) return 'JFIF thumbnail';
  return `APP${marker - 0xe0}`;
}

/**
 * Copies a JPEG without its metadata segments (EXIF, XMP, IPTC, MPF, comments) and without
 * anything after the end-of-image marker (e.g. MPF gain maps). Returns null when the structure is
 * not what a well-formed JPEG looks like; the caller then re-encodes instead.
 */
export function stripJpegMetadata(buf: Buffer): StrippedJpeg | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  const parts: Buffer[] = [buf.subarray(0, 2)];
  const removed = new Set<string>();
  let pos = 2;
  let sawFrame = false;
  for (;;) {
    // Fill bytes (0xFF) may precede a marker.
    if (buf[pos] !== 0xff) return null;
    while (buf[pos] === 0xff) pos++;
    const marker = buf[pos];
    if (marker === undefined) return null;
    const markerStart = pos - 1;
    pos++;
    if (marker === 0xd9) {
      parts.push(buf.subarray(markerStart, pos));
      if (pos < buf.length) removed.add('trailing data');
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) return null; // no standalone markers here
    if (pos + 2 > buf.length) return null;
    const length = buf.readUInt16BE(pos);
    if (length < 2 || pos + length > buf.length) return null;
    const segmentEnd = pos + length;
    const body = buf.subarray(pos + 2, segmentEnd);
    if (marker >= 0xe0 && marker <= 0xef) {
      if (keepAppSegment(marker, body)) parts.push(buf.subarray(markerStart, segmentEnd));
      else removed.add(describeAppSegment(marker, body));
      pos = segmentEnd;
      continue;
    }
    if (marker === 0xfe) {
      removed.add('comment');
      pos = segmentEnd;
      continue;
    }
    if ((marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7)
      sawFrame = true;
    if (marker !== 0xda) {
      parts.push(buf.subarray(markerStart, segmentEnd));
      pos = segmentEnd;
      continue;
    }
    // SOS: copy the header and the entropy-coded data up to the next marker that is not a
    // stuffed byte (FF00) or a restart marker (FFD0–FFD7).
    if (!sawFrame) return null;
    let scan = segmentEnd;
    for (;;) {
      const ff = buf.indexOf(0xff, scan);
      if (ff < 0 || ff + 1 >= buf.length) return null;
      const next = buf[ff + 1] ?? 0;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
        scan = ff + 1;
        continue;
      }
      scan = ff;
      break;
    }
    parts.push(buf.subarray(markerStart, scan));
    pos = scan;
  }
  if (!sawFrame) return null;
  return { jpeg: removed.size === 0 ? buf : Buffer.concat(parts), removed: [...removed] };
}

/** What the headers of a JPEG say, read in JavaScript (no decoder call): the fields sharp's metadata() would give. */
export interface JpegHeader {
  width: number;
  height: number;
  /** 1 (greyscale), 3 (YCbCr/RGB) or 4 (CMYK/YCCK). */
  components: number;
  /** Bits per sample, 8 for almost every JPEG. */
  precision: number;
  progressive: boolean;
  /** EXIF orientation 1–8, null when absent. */
  orientation: number | null;
  icc: Buffer | null;
  /** Metadata present: `exif`, `xmp`, `iptc`, `icc`, `comments`. */
  metadata: string[];
}

/** SOFn markers (frame headers); C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
function isFrameMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** EXIF orientation from an APP1 "Exif\0\0" body, or null. */
function exifOrientation(body: Buffer): number | null {
  const tiff = 6;
  if (body.length < tiff + 8) return null;
  const order = body.toString('latin1', tiff, tiff + 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (at: number): number => (le ? body.readUInt16LE(at) : body.readUInt16BE(at));
  const u32 = (at: number): number => (le ? body.readUInt32LE(at) : body.readUInt32BE(at));
  if (u16(tiff + 2) !== 42) return null;
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > body.length) return null;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > body.length) return null;
    if (u16(entry) === 0x0112) {
      const type = u16(entry + 2);
      const value = type === 3 ? u16(entry + 8) : type === 4 ? u32(entry + 8) : 0;
      return value >= 1 && value <= 8 ? value : null;
    }
  }
  return null;
}

/**
 * Reads the headers of a JPEG up to the first scan: size, components, precision, progressive,
 * EXIF orientation, ICC profile and which metadata is present. Returns null for anything unusual
 * (the caller then asks sharp), so that it never has to be cleverer than the decoder.
 */
export function readJpegHeader(buf: Buffer): JpegHeader | null {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  const metadata = new Set<string>();
  const iccChunks: Array<{ seq: number; data: Buffer }> = [];
  let orientation: number | null = null;
  let frame: Pick<JpegHeader, 'width' | 'height' | 'components' | 'precision' | 'progressive'> | null = null;
  let pos = 2;
  for (;;) {
    if (buf[pos] !== 0xff) return null;
    while (buf[pos] === 0xff) pos++;
    const marker = buf[pos];
    if (marker === undefined || marker === 0xd9 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) return null;
    pos++;
    if (pos + 2 > buf.length) return null;
    const length = buf.readUInt16BE(pos);
    if (length < 2 || pos + length > buf.length) return null;
    const body = buf.subarray(pos + 2, pos + length);
    pos += length;
    if (marker === 0xda) break;
    if (isFrameMarker(marker)) {
      if (frame !== null || body.length < 6) return null;
      // Lossless, hierarchical and arithmetic-coded JPEGs are rare enough to leave to sharp.
      if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) return null;
      frame = {
        precision: body[0] ?? 0,
        height: body.readUInt16BE(1),
        width: body.readUInt16BE(3),
        components: body[5] ?? 0,
        progressive: marker === 0xc2,
      };
    } else if (marker === 0xe1) {
      const id = body.toString('latin1', 0, Math.min(body.length, 29));
      if (id.startsWith('Exif\0')) {
        metadata.add('exif');
        orientation ??= exifOrientation(body);
      } else if (id.startsWith('http://ns.adobe.com/xap/1.0/') || id.startsWith('http://ns.adobe.com/xmp/extens')) {
        metadata.add('xmp');
      }
    } else if (marker === 0xe2 && body.toString('latin1', 0, 12) === 'ICC_PROFILE\0' && body.length > 14) {
      iccChunks.push({ seq: body[12] ?? 0, data: body.subarray(14) });
    } else if (marker === 0xed && body.toString('latin1', 0, 14) === 'Photoshop 3.0\0') {
      metadata.add('iptc');
    } else if (marker === 0xfe) {
      metadata.add('comments');
    }
  }
  if (frame === null || frame.width === 0 || frame.height === 0 || frame.precision !== 8) return null;
  if (frame.components !== 1 && frame.components !== 3 && frame.components !== 4) return null;
  let icc: Buffer | null = null;
  if (iccChunks.length > 0) {
    icc = Buffer.concat(iccChunks.sort((a, b) => a.seq - b.seq).map((c) => c.data));
    metadata.add('icc');
  }
  const order = ['exif', 'xmp', 'iptc', 'icc', 'comments'];
  return { ...frame, orientation, icc, metadata: order.filter((m) => metadata.has(m)) };
}
