// Finds the faces in a selfie, offline: MediaPipe BlazeFace on onnxruntime-node. The runtime and
// the two models are loaded on first use only (~0.2 s), so commands that check no selfie never pay
// for them. Two models, two jobs:
//   - back-256 (the "back camera" model) looks at the whole photo, letterboxed into 256×256, and
//     finds faces down to ~2 % of the photo: it is what counts the people in a group photo;
//   - front-128 (the "selfie" model) then looks again at a crop around each face it found, as a
//     second opinion: it is far surer than back-256 on a real face and unsure on a cat's face, a
//     pattern or a drawing (figures in limits.ts, FACE_MIN_CONFIRM).
// A photo in which no face is found upright is looked at again turned by 90°, 270° and 180°, so
// that a photo on its side is reported as such rather than as "no face".
import { fileURLToPath } from 'node:url';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { decodeBlazeFace } from './blazeface.js';
import type { Point, RawFace } from './blazeface.js';
import { FACE_DETECTOR, isFace } from './face-facts.js';
import type { Face, FaceFacts, Rotation } from './face-facts.js';
import { FACE_CANDIDATE_SCORE } from './limits.js';

/** The decoded photo the detector samples from: 8-bit sRGB, 1 or 3 channels, long side ≤ WORK_SIZE. */
interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

interface Models {
  runtime: typeof import('onnxruntime-node');
  back: InferenceSession;
  front: InferenceSession;
}

/** Long side the photo is decoded at for detection: enough for back-256 and for the front-128 crops. */
const WORK_SIZE = 512;
const BACK_SIZE = 256;
const FRONT_SIZE = 128;
/** The crop front-128 looks at is this many face widths across (its training crops hold the head with margin). */
const CROP_SCALE = 2.2;
/** front-128 must place the face within this distance of the crop's centre (fraction of the crop). */
const CROP_CENTRE_TOLERANCE = 0.2;
/** At most this many faces are confirmed (a crowd is "more than one face" long before this). */
const MAX_FACES = 8;
const DECODE_TIMEOUT_SECONDS = 20;

let models: Promise<Models> | undefined;

function modelPath(name: string): string {
  return fileURLToPath(new URL(`../../models/blazeface/${name}`, import.meta.url));
}

/** Loads onnxruntime-node and both models once; a failure is kept, not retried per photo. */
export function loadFaceModels(): Promise<Models> {
  models ??= (async () => {
    const runtime = await import('onnxruntime-node');
    // One thread per inference: bulk checks many photos at once, each on its own thread.
    const options: InferenceSession.SessionOptions = {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    };
    const [back, front] = await Promise.all([
      runtime.InferenceSession.create(modelPath('back-256.onnx'), options),
      runtime.InferenceSession.create(modelPath('front-128.onnx'), options),
    ]);
    return { runtime, back, front };
  })();
  return models;
}

/**
 * Finds the faces in an image file's bytes (already known to decode: called after the statistics).
 * Throws only when the detector itself cannot run (the caller reports the check as unavailable).
 */
export async function detectFaces(buf: Buffer, maxInputPixels: number): Promise<FaceFacts> {
  const [loaded, pixels] = await Promise.all([loadFaceModels(), decodeForDetection(buf, maxInputPixels)]);
  const aspect = round(pixels.width / pixels.height);
  const upright = await findFaces(loaded, pixels, 0);
  if (upright.some(isFace)) return { detector: FACE_DETECTOR, faces: upright, rotation: 0, aspect };
  for (const rotation of [90, 270, 180] as const) {
    const faces = await findFaces(loaded, pixels, rotation);
    if (faces.some(isFace)) return { detector: FACE_DETECTOR, faces, rotation, aspect };
  }
  // Nothing sure either way: the unsure upright finds are reported (the rules say what they are).
  return { detector: FACE_DETECTOR, faces: upright, rotation: 0, aspect };
}

async function decodeForDetection(buf: Buffer, maxInputPixels: number): Promise<Pixels> {
  const { data, info } = await sharp(buf, { failOn: 'none', limitInputPixels: maxInputPixels, sequentialRead: true })
    .rotate()
    .resize(WORK_SIZE, WORK_SIZE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** A square view of the photo: centre and side in photo pixels, turned clockwise by `rotation`. */
interface View {
  cx: number;
  cy: number;
  side: number;
  rotation: Rotation;
}

/** Photo pixel coordinates of a point given in fractions of a view. */
function fromView(view: View, u: number, v: number): Point {
  const du = (u - 0.5) * view.side;
  const dv = (v - 0.5) * view.side;
  // The view shows the photo turned clockwise; undo it (y points down).
  switch (view.rotation) {
    case 0:
      return [view.cx + du, view.cy + dv];
    case 90:
      return [view.cx + dv, view.cy - du];
    case 180:
      return [view.cx - du, view.cy - dv];
    case 270:
      return [view.cx - dv, view.cy + du];
  }
}

/**
 * Samples a view into the model's input: size×size×3 floats in −1…1 (BlazeFace's range), outside
 * the photo black. Each output pixel averages a grid of bilinear samples over its footprint, so
 * that shrinking does not alias.
 */
export function sampleView(pixels: Pixels, view: View, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const step = view.side / size;
  const grid = Math.max(1, Math.min(4, Math.ceil(step)));
  const { data, width, height, channels } = pixels;
  const rgb = [0, 0, 0];
  const sample = (x: number, y: number): void => {
    // Bilinear, black outside the photo.
    const fx = x - 0.5;
    const fy = y - 0.5;
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    for (let corner = 0; corner < 4; corner++) {
      const px = x0 + (corner & 1);
      const py = y0 + (corner >> 1);
      if (px < 0 || py < 0 || px >= width || py >= height) continue;
      const weight = (corner & 1 ? ax : 1 - ax) * (corner >> 1 ? ay : 1 - ay);
      const at = (py * width + px) * channels;
      for (let c = 0; c < 3; c++) rgb[c] = (rgb[c] as number) + weight * (data[at + (channels >= 3 ? c : 0)] as number);
    }
  };
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      rgb[0] = rgb[1] = rgb[2] = 0;
      for (let gy = 0; gy < grid; gy++) {
        for (let gx = 0; gx < grid; gx++) {
          const [x, y] = fromView(view, (ox + (gx + 0.5) / grid) / size, (oy + (gy + 0.5) / grid) / size);
          sample(x, y);
        }
      }
      const at = (oy * size + ox) * 3;
      const n = grid * grid;
      for (let c = 0; c < 3; c++) out[at + c] = (rgb[c] as number) / n / 127.5 - 1;
    }
  }
  return out;
}

async function runModel(
  loaded: Models,
  session: InferenceSession,
  input: Float32Array,
  size: number,
): Promise<RawFace[]> {
  const feeds: Record<string, Tensor> = {
    [session.inputNames[0] as string]: new loaded.runtime.Tensor('float32', input, [1, size, size, 3]),
  };
  const results = await session.run(feeds);
  const tensor = (k: number): Float32Array => results[session.outputNames[k] as string]?.data as Float32Array;
  return decodeBlazeFace([tensor(0), tensor(1), tensor(2), tensor(3)], size, FACE_CANDIDATE_SCORE);
}

async function findFaces(loaded: Models, pixels: Pixels, rotation: Rotation): Promise<Face[]> {
  const whole: View = {
    cx: pixels.width / 2,
    cy: pixels.height / 2,
    side: Math.max(pixels.width, pixels.height),
    rotation,
  };
  const found = await runModel(loaded, loaded.back, sampleView(pixels, whole, BACK_SIZE), BACK_SIZE);
  const faces: Face[] = [];
  for (const raw of found.slice(0, MAX_FACES)) {
    const [cx, cy] = fromView(whole, raw.cx, raw.cy);
    const crop: View = { cx, cy, side: raw.width * whole.side * CROP_SCALE, rotation };
    const second = await runModel(loaded, loaded.front, sampleView(pixels, crop, FRONT_SIZE), FRONT_SIZE);
    const centred = second.find(
      (face) => Math.abs(face.cx - 0.5) < CROP_CENTRE_TOLERANCE && Math.abs(face.cy - 0.5) < CROP_CENTRE_TOLERANCE,
    );
    faces.push(toFace(raw, centred?.score ?? 0, whole, pixels));
  }
  return faces;
}

function toFace(raw: RawFace, confirm: number, view: View, pixels: Pixels): Face {
  const point = (u: number, v: number): Point => {
    const [x, y] = fromView(view, u, v);
    return [round(x / pixels.width), round(y / pixels.height)];
  };
  const corners = [
    point(raw.cx - raw.width / 2, raw.cy - raw.height / 2),
    point(raw.cx + raw.width / 2, raw.cy + raw.height / 2),
  ];
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  const [rightEye, leftEye, nose, mouth, rightEar, leftEar] = raw.landmarks.map(([u, v]) => point(u, v)) as [
    Point,
    Point,
    Point,
    Point,
    Point,
    Point,
  ];
  return {
    score: round(raw.score),
    confirm: round(confirm),
    box: {
      x: Math.min(...xs),
      y: Math.min(...ys),
      width: round(Math.max(...xs) - Math.min(...xs)),
      height: round(Math.max(...ys) - Math.min(...ys)),
    },
    landmarks: { rightEye, leftEye, nose, mouth, rightEar, leftEar },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
