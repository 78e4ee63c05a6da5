#!/usr/bin/env node
// Prints what the face detector finds in each image given: every face with its two scores, its
// size (share of the photo's area), where it is, and the turn that made it upright. The face
// thresholds in src/selfie/limits.ts were chosen from this output (run `npm run build` first).
//   node scripts/face-survey.mjs fixtures/faces/*.jpg fixtures/bad/*.jpg
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { detectFaces } from '../dist/selfie/faces.js';

const MAX_PIXELS = 250_000_000;
for (const path of process.argv.slice(2)) {
  let facts;
  try {
    facts = await detectFaces(await readFile(path), MAX_PIXELS);
  } catch (error) {
    console.log(`${basename(path).padEnd(34)} (not decoded: ${error.message.split('\n')[0]})`);
    continue;
  }
  const faces = facts.faces.map(
    (f) =>
      `score ${f.score.toFixed(2)} confirm ${f.confirm.toFixed(2)} area ${(f.box.width * f.box.height * 100).toFixed(1)}% ` +
      `at ${(f.box.x + f.box.width / 2).toFixed(2)},${(f.box.y + f.box.height / 2).toFixed(2)}`,
  );
  const turned = facts.rotation === 0 ? '' : ` (upright when turned ${facts.rotation}°)`;
  console.log(
    `${basename(path).padEnd(34)} ${faces.length} found${turned}${faces.length ? '\n    ' : ''}${faces.join('\n    ')}`,
  );
}
