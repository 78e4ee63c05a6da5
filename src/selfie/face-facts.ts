// What the face detector found in a photo: plain data, safe to log or serialise, shared by the
// detector (faces.ts) and the pure rules (face-rules.ts). A leaf: no model, no sharp.
import type { Point } from './blazeface.js';
import { FACE_MIN_CONFIRM, FACE_MIN_SCORE, FACE_OTHER_MIN_CONFIRM } from './limits.js';

/** Which detector made the facts (recorded in --json, so that reports say what looked at a photo). */
export const FACE_DETECTOR = 'blazeface-back-256+front-128';

/** A face, in fractions of the photo as displayed (EXIF orientation applied): 0–1 across and down. */
export interface Face {
  /** back-256's confidence, 0–1. */
  score: number;
  /** front-128's confidence on a crop around the face, 0–1 (0: it saw no face there). */
  confirm: number;
  /** Left, top, width, height; a face cut off by the frame reaches past 0 or 1. */
  box: { x: number; y: number; width: number; height: number };
  landmarks: {
    rightEye: Point;
    leftEye: Point;
    nose: Point;
    mouth: Point;
    rightEar: Point;
    leftEar: Point;
  };
}

export interface FaceFacts {
  detector: string;
  /** Every face found, best first (including the ones too unsure to count: the rules decide). */
  faces: Face[];
  /** Clockwise turn (degrees) that made the faces upright: 0 unless the photo is on its side. */
  rotation: Rotation;
  /** Width / height of the photo as displayed (the fractions above are of each). */
  aspect: number;
}

export type Rotation = 0 | 90 | 180 | 270;

/** True when both models agree it is a human face: what a photo needs one of. */
export function isFace(face: Face): boolean {
  return face.score >= FACE_MIN_SCORE && face.confirm >= FACE_MIN_CONFIRM;
}

/** True when a find beside a sure face is sure enough to be another person (refusing needs less proof). */
export function isOtherFace(face: Face): boolean {
  return face.confirm >= FACE_OTHER_MIN_CONFIRM;
}
