// What the capture page posts back: the `imagesComputed` detail of Smile ID's component, checked
// before anything else looks at it. Pure: bytes in, images or a reason out.

/** One selfie and its liveness frames, as JPEG bytes, in the order the component took them. */
export interface CapturedImages {
  selfie: Buffer;
  liveness: Buffer[];
}

/** The component sends 8 frames; more than this is not a capture. */
export const MAX_LIVENESS_FRAMES = 16;
/** One JPEG from a browser canvas (640×480 or 320×240) is tens of KB; this is far above. */
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

type Parsed = { ok: true; images: CapturedImages } | { ok: false; error: string };

function decodeImage(value: unknown): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  // Raw base64 as the component sends it; a data: URL prefix is tolerated.
  const base64 = value.replace(/^data:image\/jpeg;base64,/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length < 4 || bytes.length > MAX_IMAGE_BYTES) return undefined;
  // A JPEG starts with SOI and a marker.
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff ? bytes : undefined;
}

/** Checks the posted body: `{images: [{image_type_id: 2 | 6, image: base64 JPEG}], …}`. */
export function parseCapturedImages(body: Buffer): Parsed {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const images = (document as { images?: unknown } | null)?.images;
  if (!Array.isArray(images)) return { ok: false, error: 'no images' };
  let selfie: Buffer | undefined;
  const liveness: Buffer[] = [];
  for (const item of images as unknown[]) {
    const type = Number((item as { image_type_id?: unknown } | null)?.image_type_id);
    const bytes = decodeImage((item as { image?: unknown } | null)?.image);
    if (type !== 2 && type !== 6) return { ok: false, error: `unexpected image_type_id ${String(type)}` };
    if (!bytes) return { ok: false, error: `image_type_id ${type}: not a JPEG` };
    if (type === 2) {
      if (selfie) return { ok: false, error: 'more than one selfie' };
      selfie = bytes;
    } else liveness.push(bytes);
  }
  if (!selfie) return { ok: false, error: 'no selfie (image_type_id 2)' };
  if (liveness.length > MAX_LIVENESS_FRAMES) return { ok: false, error: `${liveness.length} liveness frames` };
  return { ok: true, images: { selfie, liveness } };
}
