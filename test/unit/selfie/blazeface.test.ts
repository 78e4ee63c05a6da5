import { describe, expect, it } from 'vitest';
import { decodeBlazeFace, mergeOverlapping, overlap } from '../../../src/selfie/blazeface.js';
import type { RawFace } from '../../../src/selfie/blazeface.js';

const SIZE = 256;
const logit = (p: number): number => Math.log(p / (1 - p));

/** Empty output tensors (every anchor scored 1e-6), in the model's order. */
function outputs(): [Float32Array, Float32Array, Float32Array, Float32Array] {
  return [
    new Float32Array(512).fill(logit(1e-6)),
    new Float32Array(384).fill(logit(1e-6)),
    new Float32Array(512 * 16),
    new Float32Array(384 * 16),
  ];
}

/** Puts a face on one anchor: box offset and size, and landmarks, in input pixels from the anchor centre. */
function put(
  out: ReturnType<typeof outputs>,
  layer: 0 | 1,
  anchor: number,
  score: number,
  box: [number, number, number, number],
): void {
  out[layer][anchor] = logit(score);
  const boxes = out[layer + 2]!;
  boxes.set(box, anchor * 16);
  for (let k = 0; k < 6; k++) boxes.set([k * 2, k], anchor * 16 + 4 + k * 2);
}

describe('decodeBlazeFace', () => {
  it('finds nothing in empty outputs', () => {
    expect(decodeBlazeFace(outputs(), SIZE, 0.5)).toEqual([]);
  });

  it('places a face from its anchor: 16×16 cells × 2 anchors, then 8×8 × 6', () => {
    const out = outputs();
    // 16×16 layer, cell (x 3, y 5), its second anchor: index (5 × 16 + 3) × 2 + 1.
    put(out, 0, (5 * 16 + 3) * 2 + 1, 0.9, [8, -4, 64, 64]);
    // 8×8 layer, cell (x 6, y 1), its fourth anchor.
    put(out, 1, (1 * 8 + 6) * 6 + 3, 0.7, [0, 0, 32, 32]);
    const [first, second] = decodeBlazeFace(out, SIZE, 0.5);
    expect(first?.score).toBeCloseTo(0.9, 5);
    expect(first?.cx).toBeCloseTo(3.5 / 16 + 8 / SIZE, 6);
    expect(first?.cy).toBeCloseTo(5.5 / 16 - 4 / SIZE, 6);
    expect(first?.width).toBeCloseTo(64 / SIZE, 6);
    expect(first?.landmarks[2]?.[0]).toBeCloseTo(3.5 / 16 + 4 / SIZE, 6);
    expect(first?.landmarks[2]?.[1]).toBeCloseTo(5.5 / 16 + 2 / SIZE, 6);
    expect(second?.score).toBeCloseTo(0.7, 5);
    expect(second?.cx).toBeCloseTo(6.5 / 8, 6);
    expect(second?.cy).toBeCloseTo(1.5 / 8, 6);
  });

  it('drops finds under the minimum score', () => {
    const out = outputs();
    put(out, 0, 10, 0.45, [0, 0, 40, 40]);
    expect(decodeBlazeFace(out, SIZE, 0.5)).toEqual([]);
    expect(decodeBlazeFace(out, SIZE, 0.4)).toHaveLength(1);
  });
});

describe('mergeOverlapping', () => {
  const at = (cx: number, score: number): RawFace => ({
    score,
    cx,
    cy: 0.5,
    width: 0.2,
    height: 0.2,
    landmarks: [[cx, 0.5]],
  });

  it('merges overlapping boxes into their score-weighted mean, keeping the best score', () => {
    const [merged, ...rest] = mergeOverlapping([at(0.5, 0.6), at(0.52, 0.9)]);
    expect(rest).toEqual([]);
    expect(merged?.score).toBe(0.9);
    expect(merged?.cx).toBeCloseTo((0.5 * 0.6 + 0.52 * 0.9) / 1.5, 6);
    expect(merged?.landmarks[0]?.[0]).toBeCloseTo((0.5 * 0.6 + 0.52 * 0.9) / 1.5, 6);
  });

  it('keeps separate faces apart, best first', () => {
    const merged = mergeOverlapping([at(0.2, 0.7), at(0.7, 0.8)]);
    expect(merged.map((f) => f.score)).toEqual([0.8, 0.7]);
    expect(overlap(at(0.2, 1), at(0.7, 1))).toBe(0);
    expect(overlap(at(0.2, 1), at(0.2, 1))).toBeCloseTo(1, 6);
  });
});
