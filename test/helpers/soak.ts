/**
 * Soak-sized runs: `SMILE_SOAK=1 npx vitest run` runs the big sizes (thousands of rows, many kills);
 * the default `npm test` runs the same tests, asserting the same behaviour, at a smaller size.
 */
export const SOAK = process.env['SMILE_SOAK'] === '1';

/** `defaultN` in an ordinary run, `soakN` under SMILE_SOAK=1. */
export function soak(defaultN: number, soakN: number): number {
  return SOAK ? soakN : defaultN;
}
