// Finds the faces in a selfie, offline: the photo is decoded here (sharp, libvips' threads) and the
// detector (face-detect.ts: BlazeFace on onnxruntime-node) runs in a worker thread of its own, so
// that loading the runtime and models (~0.15 s, once per process) and each inference (~20 ms) use
// the other core while the main thread reads, decodes, signs and connects. Nothing loads until a
// selfie is checked. From the TypeScript sources (the in-process tests) there is no worker script
// to start, and a worker that cannot start at all leaves the detector in-process: same results.
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { BACK_SIZE, WORK_SIZE, findFacesInPixels, loadFaceModels } from './face-detect.js';
import type { Pixels } from './face-detect.js';
import type { FaceFacts } from './face-facts.js';
import type { DetectReply, DetectRequest } from './face-worker.js';

const DECODE_TIMEOUT_SECONDS = 20;

type Detector = (pixels: Pixels, whole: Uint8Array) => Promise<FaceFacts>;

let detector: Detector | undefined;

/** The detector in this thread: the runtime and models load on first use. */
const inProcess: Detector = findFacesInPixels;

/**
 * The detector in a worker thread. The worker starts loading the runtime and models as soon as it
 * starts; it never keeps the process alive while no photo is waiting for it. If it fails (it cannot
 * load, or it dies), every waiting and later photo gets that error: the check reports the
 * detector as unavailable rather than hanging.
 */
function inWorker(url: URL): Detector {
  const worker = new Worker(url);
  worker.unref();
  const waiting = new Map<number, { resolve: (facts: FaceFacts) => void; reject: (error: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  const fail = (error: Error): void => {
    failed ??= error;
    for (const { reject } of waiting.values()) reject(failed);
    waiting.clear();
  };
  worker.on('message', (reply: DetectReply) => {
    const entry = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (waiting.size === 0) worker.unref();
    if (entry === undefined) return;
    if ('facts' in reply) entry.resolve(reply.facts);
    else entry.reject(new Error(reply.error));
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the face detector's thread stopped (exit ${code})`)));
  return (pixels, whole) =>
    new Promise<FaceFacts>((resolve, reject) => {
      if (failed !== undefined) return reject(failed);
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.ref();
      // Copied, not transferred: sharp's buffers may not be detachable, and 0.7 MB copies in well under 1 ms.
      const request: DetectRequest = { id, pixels, whole };
      worker.postMessage(request);
    });
}

function startDetector(): Detector {
  // The worker runs the built JavaScript beside this file; from the TypeScript sources there is none.
  if (!import.meta.url.endsWith('.js') || process.env.SMILE_FACE_WORKER === '0') {
    loadFaceModels().catch(() => undefined);
    return inProcess;
  }
  try {
    return inWorker(new URL('./face-worker.js', import.meta.url));
  } catch {
    loadFaceModels().catch(() => undefined);
    return inProcess;
  }
}

/**
 * Starts the detector (its thread, the runtime and the models) without waiting: a caller that will
 * check faces soon overlaps the load with its own I/O. A failure is kept for detectFaces to report.
 */
export function preloadFaceModels(): void {
  detector ??= startDetector();
}

/**
 * Finds the faces in an image file's bytes (already known to decode: called after the statistics).
 * Throws only when the detector itself cannot run (the caller reports the check as unavailable).
 */
export async function detectFaces(buf: Buffer, maxInputPixels: number): Promise<FaceFacts> {
  preloadFaceModels();
  const pixels = await decodeForDetection(buf, maxInputPixels);
  const whole = await letterbox(pixels);
  return (detector as Detector)(pixels, whole);
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

/** The whole photo letterboxed into back-256's input, upright (libvips resizes faster than JavaScript). */
async function letterbox(pixels: Pixels): Promise<Uint8Array> {
  const { data, width, height, channels } = pixels;
  return sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
    .resize(BACK_SIZE, BACK_SIZE, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer();
}

