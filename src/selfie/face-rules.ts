// Pure face rules: what the detector found in, findings out (no model, no I/O), so that the
// thresholds are tested on hand-made faces. The geometry follows Smile ID's own selfie screen
// (smileidentity/android SmartSelfieV2ViewModel.kt, cited in limits.ts); a file cannot be retaken
// on the spot, so everything but "no face" and "more than one face" is a warning.
import type { Point } from './blazeface.js';
import { isFace, isOtherFace } from './face-facts.js';
import type { Face, FaceFacts } from './face-facts.js';
import {
  FACE_EDGE_TOLERANCE,
  FACE_IGNORE_SMALLER_THAN,
  FACE_IGNORE_SMALLER_THAN_MAIN,
  FACE_MAX_ROLL_DEGREES,
  FACE_MAX_YAW_RATIO,
  FACE_MIN_AREA,
  FACE_SAME_PERSON_INSIDE,
  FACE_VIEWFINDER_SCALE,
} from './limits.js';

/** The face codes, in the order they are checked. */
export type FaceFindingCode =
  | 'no_face'
  | 'multiple_faces'
  | 'face_too_small'
  | 'face_cut_off'
  | 'face_off_centre'
  | 'face_turned'
  | 'face_rolled'
  | 'face_check_skipped'
  | 'face_check_unavailable';

export interface FaceFinding {
  code: FaceFindingCode;
  severity: 'error' | 'warning';
  message: string;
}

/** How the face check went for one photo. */
export type FaceCheck =
  { state: 'done'; facts: FaceFacts } | { state: 'skipped' } | { state: 'unavailable'; reason: string };

export function faceArea(face: Face): number {
  return face.box.width * face.box.height;
}

/**
 * The faces that count, the main face first. The main face is the largest sure one (isFace). Others
 * count when sure enough (isOtherFace), not inside a larger face (the detector sometimes sees a
 * tight crop twice), and at least FACE_IGNORE_SMALLER_THAN of the photo (Smile ID's screen ignores
 * smaller ones: a bystander far behind) or FACE_IGNORE_SMALLER_THAN_MAIN of the main face (a group
 * photo taken from afar).
 */
export function countedFaces(facts: FaceFacts): Face[] {
  const bySize = [...facts.faces].sort((a, b) => faceArea(b) - faceArea(a));
  const main = bySize.find(isFace);
  if (!main) return [];
  const floor = Math.min(FACE_IGNORE_SMALLER_THAN, FACE_IGNORE_SMALLER_THAN_MAIN * faceArea(main));
  const counted = [main];
  for (const face of bySize) {
    if (face === main || !isOtherFace(face) || faceArea(face) < floor) continue;
    if (counted.some((bigger) => insideShare(face, bigger) > FACE_SAME_PERSON_INSIDE)) continue;
    counted.push(face);
  }
  return counted;
}

/** Share of `inner`'s box that lies inside `outer`'s. */
function insideShare(inner: Face, outer: Face): number {
  const a = inner.box;
  const b = outer.box;
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const area = a.width * a.height;
  return area > 0 ? (w * h) / area : 0;
}

/** Angle of the line from the person's right eye to their left eye, degrees clockwise (0: level). */
export function rollDegrees(face: Face, aspect: number): number {
  const [rx, ry] = scaled(face.landmarks.rightEye, aspect);
  const [lx, ly] = scaled(face.landmarks.leftEye, aspect);
  // Photo coordinates, y down: in an upright face the person's right eye is on the left.
  return normaliseDegrees((Math.atan2(ly - ry, lx - rx) * 180) / Math.PI);
}

/** Landmarks are fractions of width and height; angles need equal units (`aspect`: width / height). */
function scaled([x, y]: Point, aspect: number): Point {
  return [x * aspect, y];
}

function normaliseDegrees(value: number): number {
  return ((((value + 180) % 360) + 360) % 360) - 180;
}

/**
 * How far the nose sits sideways from the middle of the eyes, in eye distances, measured along
 * the eye line: 0 for a face looking at the camera, growing as the head turns (about 0.5 × tan(yaw)
 * for an average nose; FACE_MAX_YAW_RATIO).
 */
export function yawRatio(face: Face, aspect: number): number {
  const [rx, ry] = scaled(face.landmarks.rightEye, aspect);
  const [lx, ly] = scaled(face.landmarks.leftEye, aspect);
  const [nx, ny] = scaled(face.landmarks.nose, aspect);
  const ex = lx - rx;
  const ey = ly - ry;
  const eyes = Math.hypot(ex, ey);
  if (eyes === 0) return 0;
  const mx = (rx + lx) / 2;
  const my = (ry + ly) / 2;
  return ((nx - mx) * ex + (ny - my) * ey) / (eyes * eyes);
}

function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}

function outside(point: Point): boolean {
  return point[0] < 0 || point[0] > 1 || point[1] < 0 || point[1] > 1;
}

/** Findings about the faces in a photo. Liveness frames get only "no face" and "more than one face". */
export function evaluateFaces(check: FaceCheck, kind: 'selfie' | 'liveness'): FaceFinding[] {
  if (check.state === 'skipped')
    return [
      {
        code: 'face_check_skipped',
        severity: 'warning',
        message: 'The face check was skipped (--skip-face-check): nothing made sure this photo shows one face.',
      },
    ];
  if (check.state === 'unavailable')
    return [
      {
        code: 'face_check_unavailable',
        severity: 'warning',
        message: `The face check could not run on this machine (${check.reason}); the photo was checked without it. Look at it yourself before sending.`,
      },
    ];
  const { facts } = check;
  const counted = countedFaces(facts);
  const main = counted[0];
  if (!main)
    return [
      {
        code: 'no_face',
        severity: 'error',
        message:
          "No human face was found in the photo. Use a photo of the person's face, facing the camera, in good light.",
      },
    ];
  if (counted.length > 1)
    return [
      {
        code: 'multiple_faces',
        severity: 'error',
        message: `${counted.length} faces were found; a selfie must show one person only. Retake it with the person alone, or crop it to their face.`,
      },
    ];
  if (kind === 'liveness') return [];

  const findings: FaceFinding[] = [];
  const warn = (code: FaceFindingCode, message: string): void =>
    void findings.push({ code, severity: 'warning', message });
  const area = faceArea(main);
  if (area < FACE_MIN_AREA)
    warn(
      'face_too_small',
      `The face fills ${percent(area)} of the photo; Smile ID's own camera asks for at least ${percent(FACE_MIN_AREA)}. Crop the photo closer to the face, or retake it closer.`,
    );
  const { x, y, width, height } = main.box;
  const tolerance = FACE_EDGE_TOLERANCE;
  const cut =
    x < -tolerance * width ||
    y < -tolerance * height ||
    x + width > 1 + tolerance * width ||
    y + height > 1 + tolerance * height ||
    [main.landmarks.rightEye, main.landmarks.leftEye, main.landmarks.nose, main.landmarks.mouth].some(outside);
  if (cut)
    warn(
      'face_cut_off',
      'Part of the face is outside the photo. Use a photo that shows the whole face, with some space around it.',
    );
  const margin = (1 - 1 / FACE_VIEWFINDER_SCALE) / 2;
  const cx = x + width / 2;
  const cy = y + height / 2;
  if (!cut && (cx < margin || cx > 1 - margin || cy < margin || cy > 1 - margin))
    warn(
      'face_off_centre',
      `The face is near the edge of the photo, not in the middle ${percent(1 / FACE_VIEWFINDER_SCALE)}. Crop the photo around the face, or retake it with the face centred.`,
    );
  if (Math.abs(yawRatio(main, facts.aspect)) > FACE_MAX_YAW_RATIO)
    warn(
      'face_turned',
      'The head is turned to the side. Use a photo in which the person looks straight at the camera.',
    );
  const tilt = rollDegrees(main, facts.aspect);
  if (facts.rotation !== 0)
    warn(
      'face_rolled',
      `The photo is ${facts.rotation === 180 ? 'upside down' : 'on its side'}: the face is upright only when it is turned ${facts.rotation}° clockwise. Rotate the photo and check it again.`,
    );
  else if (Math.abs(tilt) > FACE_MAX_ROLL_DEGREES)
    warn(
      'face_rolled',
      `The head is tilted ${Math.round(Math.abs(tilt))}° (at most ${FACE_MAX_ROLL_DEGREES}°). Use a photo in which the head is upright.`,
    );
  return findings;
}
