import { describe, expect, it } from 'vitest';
import type { Face, FaceFacts } from '../../../src/selfie/face-facts.js';
import { countedFaces, evaluateFaces, rollDegrees, yawRatio } from '../../../src/selfie/face-rules.js';
import type { FaceCheck } from '../../../src/selfie/face-rules.js';
import {
  FACE_IGNORE_SMALLER_THAN,
  FACE_IGNORE_SMALLER_THAN_MAIN,
  FACE_MAX_ROLL_DEGREES,
  FACE_MAX_YAW_RATIO,
  FACE_MIN_AREA,
  FACE_MIN_CONFIRM,
  FACE_MIN_SCORE,
  FACE_OTHER_MIN_CONFIRM,
} from '../../../src/selfie/limits.js';
import { uprightFace } from '../../helpers/faces.js';
import type { FaceShape } from '../../helpers/faces.js';

const ASPECT = 0.8;

function facts(faces: Face[], rotation: FaceFacts['rotation'] = 0): Extract<FaceCheck, { state: 'done' }> {
  return { state: 'done', facts: { detector: 'test', faces, rotation, aspect: ASPECT } };
}

const face = (shape: FaceShape = {}): Face => uprightFace({ aspect: ASPECT, ...shape });
const codes = (check: FaceCheck, kind: 'selfie' | 'liveness' = 'selfie'): string[] =>
  evaluateFaces(check, kind).map((f) => `${f.code}:${f.severity}`);

describe('evaluateFaces', () => {
  it('finds nothing wrong with one face, large, centred, upright and looking at the camera', () => {
    expect(codes(facts([face()]))).toEqual([]);
  });

  it('is an error when nothing was found, or only what is not sure to be a human face', () => {
    expect(codes(facts([]))).toEqual(['no_face:error']);
    // An animal: back-256 is fairly sure, the second look (front-128) is not.
    expect(codes(facts([face({ score: 0.77, confirm: FACE_MIN_CONFIRM - 0.02 })]))).toEqual(['no_face:error']);
    expect(codes(facts([face({ score: FACE_MIN_SCORE - 0.01, confirm: 0.95 })]))).toEqual(['no_face:error']);
  });

  it('is an error for two people of similar size, wherever they are', () => {
    const two = [face({ cx: 0.3, width: 0.3 }), face({ cx: 0.72, width: 0.25 })];
    const found = evaluateFaces(facts(two), 'selfie');
    expect(found.map((f) => f.code)).toEqual(['multiple_faces']);
    expect(found[0]?.message).toMatch(/^2 faces were found/);
    // Liveness frames too.
    expect(codes(facts(two), 'liveness')).toEqual(['multiple_faces:error']);
  });

  it('counts a small face far behind only when it is not tiny next to the main face', () => {
    const main = face({ width: 0.45 });
    // area = width² × aspect: 0.1² × 0.8 = 0.8 % of the photo and 5 % of the main face.
    const bystander = face({ cx: 0.1, cy: 0.1, width: 0.1, confirm: 0.9 });
    expect(countedFaces(facts([main, bystander]).facts)).toHaveLength(1);
    // A group photo from afar: every face small, all about the same size.
    const group = [0.2, 0.4, 0.6, 0.8].map((cx) => face({ cx, width: 0.1 }));
    expect(codes(facts(group))).toEqual(['multiple_faces:error']);
    // A face ≥ FACE_IGNORE_SMALLER_THAN of the photo counts even next to a large main face.
    const side = Math.sqrt((FACE_IGNORE_SMALLER_THAN + 0.005) / ASPECT);
    expect(codes(facts([main, face({ cx: 0.12, cy: 0.2, width: side })]))).toEqual(['multiple_faces:error']);
  });

  it('counts a face a tenth of the main face or more (a band photographed from afar), not less', () => {
    const main = face({ width: 0.3 });
    // Widths as a share of the main face's width: area goes with the square.
    const other = (share: number) => face({ cx: 0.12, cy: 0.15, width: 0.3 * Math.sqrt(share) });
    expect(codes(facts([main, other(FACE_IGNORE_SMALLER_THAN_MAIN + 0.02)]))).toContain('multiple_faces:error');
    expect(codes(facts([main, other(FACE_IGNORE_SMALLER_THAN_MAIN - 0.02)]))).not.toContain('multiple_faces:error');
  });

  it('needs less proof for a second face than for the first', () => {
    const main = face({ cx: 0.3, width: 0.3 });
    expect(codes(facts([main, face({ cx: 0.75, width: 0.3, confirm: FACE_OTHER_MIN_CONFIRM })]))).toEqual([
      'multiple_faces:error',
    ]);
    expect(codes(facts([main, face({ cx: 0.75, width: 0.3, confirm: FACE_OTHER_MIN_CONFIRM - 0.01 })]))).toEqual([
      'face_too_small:warning',
    ]);
  });

  it('does not count the same face seen twice (a box inside a larger one)', () => {
    const big = face({ width: 0.8 });
    const inner = face({ width: 0.5, score: 0.6, confirm: 0.9 });
    expect(codes(facts([inner, big]))).not.toContain('multiple_faces:error');
  });

  it('warns about a small face, with the figures', () => {
    const small = face({ width: 0.3 }); // 0.3² × 0.8 = 7.2 %
    const found = evaluateFaces(facts([small]), 'selfie');
    expect(found.map((f) => `${f.code}:${f.severity}`)).toEqual(['face_too_small:warning']);
    expect(found[0]?.message).toContain(`at least ${FACE_MIN_AREA * 100} %`);
    expect(found[0]?.message).toContain('7 %');
  });

  it('warns about a face cut off by the frame, and not also about it being off centre', () => {
    expect(codes(facts([face({ cx: 0.85, width: 0.45 })]))).toEqual(['face_cut_off:warning']);
    expect(codes(facts([face({ cy: 0.1, width: 0.45 })]))).toEqual(['face_cut_off:warning']);
  });

  it('warns about a whole face far from the middle', () => {
    expect(codes(facts([face({ cx: 0.9, cy: 0.5, width: 0.18 })]))).toEqual([
      'face_too_small:warning',
      'face_off_centre:warning',
    ]);
    expect(codes(facts([face({ cx: 0.8, cy: 0.5, width: 0.36 })]))).toEqual([]);
  });

  it('warns about a head turned to the side, either way, and not about a small turn', () => {
    expect(codes(facts([face({ turn: FACE_MAX_YAW_RATIO + 0.05 })]))).toEqual(['face_turned:warning']);
    expect(codes(facts([face({ turn: -(FACE_MAX_YAW_RATIO + 0.05) })]))).toEqual(['face_turned:warning']);
    expect(codes(facts([face({ turn: FACE_MAX_YAW_RATIO - 0.05 })]))).toEqual([]);
    expect(yawRatio(face({ turn: 0.3 }), ASPECT)).toBeCloseTo(0.3, 2);
  });

  it('warns about a tilted head, and about a photo on its side with the turn that fixes it', () => {
    expect(rollDegrees(face({ tilt: 20 }), ASPECT)).toBeCloseTo(20, 0);
    expect(codes(facts([face({ tilt: FACE_MAX_ROLL_DEGREES - 5 })]))).toEqual([]);
    expect(codes(facts([face({ tilt: FACE_MAX_ROLL_DEGREES + 5 })]))).toEqual(['face_rolled:warning']);
    const side = evaluateFaces(facts([face({ tilt: 90 })], 90), 'selfie');
    expect(side.map((f) => f.code)).toEqual(['face_rolled']);
    expect(side[0]?.message).toContain('on its side');
    expect(side[0]?.message).toContain('90°');
    expect(evaluateFaces(facts([face({ tilt: 180 })], 180), 'selfie')[0]?.message).toContain('upside down');
  });

  it('checks liveness frames only for the number of faces (they may be turned on purpose)', () => {
    expect(codes(facts([face({ turn: 0.5, width: 0.2, cx: 0.85 })]), 'liveness')).toEqual([]);
    expect(codes(facts([]), 'liveness')).toEqual(['no_face:error']);
  });

  it('says when the check was skipped or could not run, as warnings', () => {
    expect(codes({ state: 'skipped' })).toEqual(['face_check_skipped:warning']);
    const unavailable = evaluateFaces({ state: 'unavailable', reason: 'no build for this CPU' }, 'selfie');
    expect(unavailable.map((f) => `${f.code}:${f.severity}`)).toEqual(['face_check_unavailable:warning']);
    expect(unavailable[0]?.message).toContain('no build for this CPU');
  });
});
