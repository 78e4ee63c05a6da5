// Finds the faces in a selfie, offline: the photo is decoded here (sharp, libvips' threads) and
// handed to the detector (face-detect.ts: BlazeFace on onnxruntime-node).
import sharp from 'sharp';
import { BACK_SIZE, WORK_SIZE, findFacesInPixels, preloadFaceModels } from './face-detect.js';
import type { Pixels } from './face-detect.js';
import type { FaceFacts } from './face-facts.js';

const DECODE_TIMEOUT_SECONDS = 20;

/**
 * Finds the faces in an image file's bytes (called beside the statistics decode, whose result
 * decides whether these faces are reported). Throws when the photo does not decode or the detector
 * itself cannot run (the caller reports the check as unavailable).
 */
export async function detectFaces(buf: Buffer, maxInputPixels: number): Promise<FaceFacts> {
  // The runtime and models load while the photo is decoded (they load once per process).
  preloadFaceModels();
  const pixels = await decodeForDetection(buf, maxInputPixels);
  const whole = await letterbox(pixels);
  return findFacesInPixels(pixels, whole);
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
