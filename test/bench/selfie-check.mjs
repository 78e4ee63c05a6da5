#!/usr/bin/env node
// Benchmark (prints figures, asserts nothing): selfies per second for `checkSelfieFiles` against
// bare sharp decoding of the same files at the same concurrency, side by side in one run.
//
//   npx tsc -p tsconfig.build.json && node --expose-gc test/bench/selfie-check.mjs [--files 200] [--rounds 3] [--concurrency N]
//
// The files are 640×800 synthetic portraits (scripts/make-fixtures.mjs): 10 textured renders,
// each file a different crop, exposure, hue and JPEG quality (85–92) of one of them, written to a
// temporary directory that is removed afterwards. Rounds alternate the order of the two methods
// so that neither always runs on a warmer machine; the best round of each is reported.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { faceSvg, renderPhoto, seededRandom } from '../../scripts/make-fixtures.mjs';
import { checkSelfieFiles, loadSelfieForUpload, mapBounded } from '../../dist/selfie/check.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: String(availableParallelism()) },
  },
});
const fileCount = Number(values.files);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);

// libvips' operation cache would let bare decoding of the same path hit the cache on later rounds.
sharp.cache(false);

const dir = await mkdtemp(join(tmpdir(), 'smile-bench-selfies-'));
try {
  const started = performance.now();
  const bases = [];
  for (let seed = 1; seed <= 10; seed++)
    bases.push(await renderPhoto(faceSvg({ seed: 1000 + seed, width: 680, height: 850 }), seed));
  const paths = await mapBounded(
    Array.from({ length: fileCount }, (_, i) => i),
    concurrency,
    async (i) => {
      const rnd = seededRandom(5000 + i);
      const base = bases[i % bases.length];
      const jpeg = await sharp(base.data, { raw: { width: base.width, height: base.height, channels: 3 } })
        .extract({ left: Math.floor(rnd() * 40), top: Math.floor(rnd() * 50), width: 640, height: 800 })
        .modulate({ brightness: 0.9 + rnd() * 0.2, hue: Math.round((rnd() - 0.5) * 20) })
        .jpeg({ quality: 85 + Math.floor(rnd() * 8), mozjpeg: false })
        .toBuffer();
      const path = join(dir, `selfie-${String(i).padStart(4, '0')}.jpg`);
      await writeFile(path, jpeg);
      return path;
    },
  );
  console.log(`generated ${fileCount} 640×800 JPEGs in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const methods = {
    'bare sharp decode (sharp(f).raw().toBuffer())': async () => {
      await mapBounded(paths, concurrency, (p) => sharp(p).raw().toBuffer());
    },
    checkSelfieFiles: async () => {
      const reports = await checkSelfieFiles(paths, { kind: 'selfie', concurrency });
      const failed = reports.filter((r) => !r.ok).length;
      if (failed > 0) throw new Error(`${failed} generated selfies failed the checks`);
    },
    'loadSelfieForUpload (check + JPEG to send)': async () => {
      await mapBounded(paths, concurrency, (p) => loadSelfieForUpload(p, { kind: 'selfie' }));
    },
  };
  const names = Object.keys(methods);
  const bare = names[0];
  // Warm-up: load code paths and the thread pool once.
  for (const name of names) await methods[name]();
  // Wall-clock time is what a user sees, but on a shared machine it swings with other load; CPU
  // time of the whole process (main thread, libvips and libuv threads) is the steadier measure of
  // the work done. Both are reported; ratios are medians of per-round ratios, since the two
  // methods of one round run back to back under the same conditions.
  const wall = Object.fromEntries(names.map((n) => [n, []]));
  const cpu = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      // Bare decoding leaves ~300 MB of pixel buffers behind; collect them here, not in the next method's time.
      globalThis.gc?.();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await methods[name]();
      const ms = performance.now() - t0;
      const used = process.cpuUsage(c0);
      wall[name].push(ms);
      cpu[name].push((used.user + used.system) / 1000);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const perSecond = (ms) => fileCount / (ms / 1000);
  console.log(
    `node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0].toFixed(1)}, concurrency ${concurrency}, ${rounds} rounds (medians)`,
  );
  console.log(`  ${''.padEnd(48)} ${'wall clock'.padStart(16)}  ${'per CPU-second'.padStart(18)}`);
  for (const name of names) {
    console.log(
      `  ${name.padEnd(48)} ${perSecond(median(wall[name])).toFixed(0).padStart(6)} selfies/s  ${perSecond(median(cpu[name])).toFixed(0).padStart(8)} selfies/CPU-s`,
    );
  }
  const ratio = (name, series) => median(series[name].map((ms, i) => series[bare][i] / ms));
  for (const name of names.slice(1)) {
    console.log(
      `ratio ${name} / bare decoding: wall ${ratio(name, wall).toFixed(2)}, CPU ${ratio(name, cpu).toFixed(2)}${name === 'checkSelfieFiles' ? '  (goal ≥ 0.80)' : ''}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
