// The face detector's thread (started by faces.ts): loads the runtime and models at once, then
// answers each photo's pixels with its faces. Errors are answered, never thrown: the main thread
// reports the check as unavailable.
import { parentPort } from 'node:worker_threads';
import { findFacesInPixels, loadFaceModels } from './face-detect.js';
import type { Pixels } from './face-detect.js';
import type { FaceFacts } from './face-facts.js';

export interface DetectRequest {
  id: number;
  pixels: Pixels;
  /** The photo letterboxed into back-256's input. */
  whole: Uint8Array;
}

export type DetectReply = { id: number; facts: FaceFacts } | { id: number; error: string };

const port = parentPort;
if (port !== null) {
  loadFaceModels().catch(() => undefined);
  port.on('message', (request: DetectRequest) => {
    findFacesInPixels(request.pixels, request.whole).then(
      (facts) => port.postMessage({ id: request.id, facts } satisfies DetectReply),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          error: error instanceof Error ? error.message : String(error),
        } satisfies DetectReply),
    );
  });
}
