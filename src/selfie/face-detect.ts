// The face detector itself: MediaPipe BlazeFace on onnxruntime-node, given pixels that faces.ts
// decoded. The runtime and the two models are loaded on first use only (~0.15 s), so commands that
// check no selfie never pay for them. (A worker thread for this was tried and measured: on 2 cores
// its start-up cost more than it saved, and bulk's peak RSS grew by ~50 MB.) Two models, two jobs:
//   - back-256 (the "back camera" model) looks at the whole photo, letterboxed into 256×256, and
//     finds faces down to ~2 % of the photo: it is what counts the people in a group photo;
//   - front-128 (the "selfie" model) then looks again at a crop around each face it found, as a
//     second opinion: it is far surer than back-256 on a real face and unsure on an animal's face
//     or a pattern (figures in limits.ts, FACE_MIN_CONFIRM).
// A photo in which no face is found upright is looked at again turned by 90°, 270° and 180°, so
// that a photo on its side is reported as such rather than as "no face".
import { fileURLToPath } from 'node:url';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { decodeBlazeFace } from './blazeface.js';
import type { Point, RawFace } from './blazeface.js';
import { FACE_DETECTOR, isFace } from './face-facts.js';
import type { Face, FaceFacts, Rotation } from './face-facts.js';
import { FACE_CANDIDATE_SCORE } from './limits.js';

/** The decoded photo the detector samples from: 8-bit sRGB, 1 or 3 channels, long side ≤ WORK_SIZE. */
export interface Pixels {
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
export const WORK_SIZE = 400;
export const BACK_SIZE = 256;
const FRONT_SIZE = 128;
/** The crop front-128 looks at is this many face widths across (its training crops hold the head with margin). */
const CROP_SCALE = 2.2;
/** front-128 must place the face within this distance of the crop's centre (fraction of the crop). */
const CROP_CENTRE_TOLERANCE = 0.2;
/** At most this many faces are confirmed (a crowd is "more than one face" long before this). */
const MAX_FACES = 8;

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
 * Starts loading the runtime and models without waiting: a caller that will check faces soon
 * overlaps the load with its own I/O. A failure is kept for findFacesInPixels to report.
 */
export function preloadFaceModels(): void {
  loadFaceModels().catch(() => undefined);
}

/**
 * Finds the faces in a decoded photo, given also as `whole`: the photo letterboxed into back-256's
 * input (BACK_SIZE², RGB, upright). Throws only when the detector itself cannot run.
 */
export async function findFacesInPixels(pixels: Pixels, whole: Uint8Array): Promise<FaceFacts> {
  const loaded = await loadFaceModels();
  const aspect = round(pixels.width / pixels.height);
  const upright = await findFaces(loaded, pixels, whole, 0);
  if (upright.some(isFace)) return { detector: FACE_DETECTOR, faces: upright, rotation: 0, aspect };
  for (const rotation of [90, 270, 180] as const) {
    const faces = await findFaces(loaded, pixels, whole, rotation);
    if (faces.some(isFace)) return { detector: FACE_DETECTOR, faces, rotation, aspect };
  }
  // Nothing sure either way: the unsure upright finds are reported (the rules say what they are).
  return { detector: FACE_DETECTOR, faces: upright, rotation: 0, aspect };
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

/** The source taps of one output coordinate along one axis: where they start and their weights. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  /** Offset of each output coordinate's weights in `weights`. */
  at: Int32Array;
}

/**
 * Taps for `size` outputs covering [start, start + size × step) of an axis `limit` pixels long: a
 * box filter when shrinking (each output averages its footprint, so nothing aliases), bilinear
 * when enlarging. Taps outside the photo are left out, so the edge fades to black (the padding).
 */
function axisTaps(start: number, step: number, size: number, limit: number): Taps {
  const first = new Int32Array(size);
  const count = new Int32Array(size);
  const at = new Int32Array(size);
  const weights: number[] = [];
  for (let i = 0; i < size; i++) {
    at[i] = weights.length;
    const taps: Array<[number, number]> = [];
    if (step > 1) {
      const a = start + i * step;
      const b = a + step;
      for (let p = Math.floor(a); p < Math.ceil(b); p++) {
        const cover = Math.min(b, p + 1) - Math.max(a, p);
        if (p >= 0 && p < limit && cover > 0) taps.push([p, cover / step]);
      }
    } else {
      const c = start + (i + 0.5) * step - 0.5;
      const p = Math.floor(c);
      const f = c - p;
      if (p >= 0 && p < limit) taps.push([p, 1 - f]);
      if (p + 1 >= 0 && p + 1 < limit) taps.push([p + 1, f]);
    }
    first[i] = taps[0]?.[0] ?? 0;
    count[i] = taps.length;
    // Taps are consecutive pixels: store their weights only.
    for (const [, weight] of taps) weights.push(weight);
  }
  return { first, count, weights: Float32Array.from(weights), at };
}

/**
 * Samples a view into the model's input: size×size×3 floats in −1…1 (BlazeFace's range), outside
 * the photo black. Resampled in two passes (rows, then columns) on the upright square, which is
 * then turned by the view's rotation: a few ms for a 256×256 input from a 400 px photo.
 */
export function sampleView(pixels: Pixels, view: View, size: number): Float32Array {
  const { data, width, height, channels } = pixels;
  const step = view.side / size;
  const xs = axisTaps(view.cx - view.side / 2, step, size, width);
  const ys = axisTaps(view.cy - view.side / 2, step, size, height);
  let rowFrom = height;
  let rowTo = -1;
  for (let i = 0; i < size; i++) {
    const n = ys.count[i] as number;
    if (n === 0) continue;
    rowFrom = Math.min(rowFrom, ys.first[i] as number);
    rowTo = Math.max(rowTo, (ys.first[i] as number) + n - 1);
  }
  const upright = new Float32Array(size * size * 3);
  if (rowTo >= rowFrom) {
    // Pass 1: every needed photo row, resampled across to `size` columns.
    const rows = rowTo - rowFrom + 1;
    const across = new Float32Array(rows * size * 3);
    const g = channels >= 3 ? 1 : 0;
    const b = channels >= 3 ? 2 : 0;
    for (let r = 0; r < rows; r++) {
      const line = (rowFrom + r) * width;
      for (let i = 0; i < size; i++) {
        let red = 0;
        let green = 0;
        let blue = 0;
        const n = xs.count[i] as number;
        const w0 = xs.at[i] as number;
        let p = ((line + (xs.first[i] as number)) * channels) | 0;
        for (let k = 0; k < n; k++, p += channels) {
          const weight = xs.weights[w0 + k] as number;
          red += weight * (data[p] as number);
          green += weight * (data[p + g] as number);
          blue += weight * (data[p + b] as number);
        }
        const o = (r * size + i) * 3;
        across[o] = red;
        across[o + 1] = green;
        across[o + 2] = blue;
      }
    }
    // Pass 2: down the columns.
    for (let j = 0; j < size; j++) {
      const n = ys.count[j] as number;
      const w0 = ys.at[j] as number;
      const r0 = (ys.first[j] as number) - rowFrom;
      for (let i = 0; i < size; i++) {
        let red = 0;
        let green = 0;
        let blue = 0;
        for (let k = 0; k < n; k++) {
          const weight = ys.weights[w0 + k] as number;
          const q = ((r0 + k) * size + i) * 3;
          red += weight * (across[q] as number);
          green += weight * (across[q + 1] as number);
          blue += weight * (across[q + 2] as number);
        }
        const o = (j * size + i) * 3;
        upright[o] = red;
        upright[o + 1] = green;
        upright[o + 2] = blue;
      }
    }
  }
  return toModelInput(upright, size, view.rotation);
}

/** Turns the upright square clockwise by `rotation` and scales 0–255 to BlazeFace's −1…1. */
function toModelInput(upright: ArrayLike<number>, size: number, rotation: Rotation): Float32Array {
  const out = new Float32Array(size * size * 3);
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // The output pixel (x, y) shows the upright pixel it came from, turned clockwise.
      let sx = x;
      let sy = y;
      if (rotation === 90) {
        sx = y;
        sy = last - x;
      } else if (rotation === 180) {
        sx = last - x;
        sy = last - y;
      } else if (rotation === 270) {
        sx = last - y;
        sy = x;
      }
      const from = (sy * size + sx) * 3;
      const to = (y * size + x) * 3;
      out[to] = (upright[from] as number) / 127.5 - 1;
      out[to + 1] = (upright[from + 1] as number) / 127.5 - 1;
      out[to + 2] = (upright[from + 2] as number) / 127.5 - 1;
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

async function findFaces(loaded: Models, pixels: Pixels, whole: Uint8Array, rotation: Rotation): Promise<Face[]> {
  const view: View = {
    cx: pixels.width / 2,
    cy: pixels.height / 2,
    side: Math.max(pixels.width, pixels.height),
    rotation,
  };
  const found = await runModel(loaded, loaded.back, toModelInput(whole, BACK_SIZE, rotation), BACK_SIZE);
  const faces: Face[] = [];
  for (const raw of found.slice(0, MAX_FACES)) {
    const [cx, cy] = fromView(view, raw.cx, raw.cy);
    const crop: View = { cx, cy, side: raw.width * view.side * CROP_SCALE, rotation };
    const second = await runModel(loaded, loaded.front, sampleView(pixels, crop, FRONT_SIZE), FRONT_SIZE);
    const centred = second.find(
      (face) => Math.abs(face.cx - 0.5) < CROP_CENTRE_TOLERANCE && Math.abs(face.cy - 0.5) < CROP_CENTRE_TOLERANCE,
    );
    faces.push(toFace(raw, centred?.score ?? 0, view, pixels));
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
