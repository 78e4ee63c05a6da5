// The face detector's thread. BlazeFace on onnxruntime-node (face-detect.ts) runs in a worker
// thread (face-worker.ts), so that loading the runtime and models (~0.15 s of CPU, once per
// process) and each inference (~20–40 ms) use the other core while the main thread reads, decodes,
// signs and connects. This module is small and loads neither sharp nor the runtime: `register`
// starts the thread before it loads anything else. Nothing starts until a selfie will be checked.
// From the TypeScript sources (the in-process tests) there is no worker script to start, and a
// worker that cannot start at all leaves the detector in this thread: the results are the same.
import { Worker } from 'node:worker_threads';
import type { Pixels } from './face-detect.js';
import type { FaceFacts } from './face-facts.js';
import type { DetectReply, DetectRequest } from './face-worker.js';

type Detector = (pixels: Pixels, whole: Uint8Array) => Promise<FaceFacts>;

let detector: Detector | undefined;

/** The detector in this thread: the runtime and models load on first use. */
function inProcess(): Detector {
  const loaded = import('./face-detect.js');
  loaded.then(({ loadFaceModels }) => loadFaceModels()).catch(() => undefined);
  return async (pixels, whole) => (await loaded).findFacesInPixels(pixels, whole);
}

/**
 * The detector in a worker thread. The worker starts loading the runtime and models as soon as it
 * starts; it never keeps the process alive while no photo is waiting for it. If it fails (it cannot
 * load, or it dies), every waiting and later photo gets that error: the check reports the
 * detector as unavailable rather than hanging.
 */
function inWorker(url: URL): Detector {
  const worker = new Worker(url);
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
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref();
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
  if (!import.meta.url.endsWith('.js') || process.env.SMILE_FACE_WORKER === '0') return inProcess();
  try {
    return inWorker(new URL('./face-worker.js', import.meta.url));
  } catch {
    return inProcess();
  }
}

/**
 * Starts the detector (its thread, the runtime and the models) without waiting: a caller that will
 * check faces soon overlaps the load with its own I/O. A failure is kept for detectFaces to report.
 */
export function preloadFaceModels(): void {
  detector ??= startDetector();
}

/** The faces in a decoded photo (`whole`: it letterboxed into back-256's input), found by the detector. */
export function detectInThread(pixels: Pixels, whole: Uint8Array): Promise<FaceFacts> {
  detector ??= startDetector();
  return detector(pixels, whole);
}
