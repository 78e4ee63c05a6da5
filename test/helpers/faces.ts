// Hand-made detector output for the pure face rules: a face as BlazeFace reports one, in fractions
// of the photo, for a 640×800 portrait (aspect 0.8) unless changed.
import type { Face } from '../../src/selfie/face-facts.js';

export interface FaceShape {
  /** Centre, fractions of width and height. */
  cx?: number;
  cy?: number;
  /** Box width as a fraction of the photo's width (the box is square in pixels). */
  width?: number;
  aspect?: number;
  score?: number;
  confirm?: number;
  /** Nose offset along the eye line, in eye distances (0: looking at the camera). */
  turn?: number;
  /** Tilt of the eye line, degrees clockwise. */
  tilt?: number;
}

/** A face of the given shape, with landmarks where a real face has them. */
export function uprightFace(shape: FaceShape = {}): Face {
  const { cx = 0.5, cy = 0.45, width = 0.45, aspect = 0.8, score = 0.9, confirm = 0.9, turn = 0, tilt = 0 } = shape;
  const height = width * aspect;
  const angle = (tilt * Math.PI) / 180;
  // Offsets in units of the box width, in pixel-proportional space, then back to fractions.
  const at = (dx: number, dy: number): [number, number] => {
    const px = dx * Math.cos(angle) - dy * Math.sin(angle);
    const py = dx * Math.sin(angle) + dy * Math.cos(angle);
    const x = cx + px * width;
    const y = cy + (py * width * aspect) / 1;
    return [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000];
  };
  return {
    score,
    confirm,
    box: { x: cx - width / 2, y: cy - height / 2, width, height },
    landmarks: {
      rightEye: at(-0.2, -0.12),
      leftEye: at(0.2, -0.12),
      nose: at(turn * 0.4, 0.05),
      mouth: at(turn * 0.2, 0.22),
      rightEar: at(-0.45, -0.05),
      leftEar: at(0.45, -0.05),
    },
  };
}
