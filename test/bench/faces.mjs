// Benchmark (prints figures; asserts nothing): what the face check costs, side by side with the
// same checks without it (--skip-face-check), in one run.
//   1. Per photo, in-process: loadSelfieForUpload (what register and bulk call) on real photos,
//      one at a time (latency) and at bulk's pool size (throughput), wall and CPU time per photo.
//   2. `smile bulk` against the emulator (its own process), client CPU per row and peak RSS.
//
//   npm run build && node test/bench/faces.mjs      (env: ROWS=300 ROUNDS=3 CONCURRENCY=16)
//
// Photos: every passing real-face fixture (fixtures/selfies/*.jpg, fixtures/faces/one-face-*.jpg).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { root, run, startEmulatorProcess } from './lib.mjs';

const ROWS = Number(process.env.ROWS ?? 300);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const POOL = Math.max(2, Math.min(16, availableParallelism() * 2)); // bulk's selfie pool (src/bulk/run.ts)

const listed = (dir, pattern) =>
  readdirSync(join(root, dir))
    .filter((name) => pattern.test(name))
    .map((name) => join(root, dir, name));
const photos = [
  ...listed('fixtures/selfies', /^(demo|selfie-[^.]*)\.jpg$/),
  ...(() => {
    try {
      return listed('fixtures/faces', /^one-face-.*\.jpg$/);
    } catch {
      return [];
    }
  })(),
];
console.log(
  `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${photos.length} photos`,
);

// ---- 1. per photo ------------------------------------------------------------------------------
const { loadSelfieForUpload, mapBounded } = await import('../../dist/selfie/check.js');
const { loadFaceModels } = await import('../../dist/selfie/faces.js');
const readyStarted = performance.now();
await loadFaceModels();
const readyMs = performance.now() - readyStarted;

async function measure(skipFaceCheck, concurrency) {
  const work = Array.from({ length: Math.max(60, photos.length * 6) }, (_, i) => photos[i % photos.length]);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await mapBounded(work, concurrency, (path) => loadSelfieForUpload(path, { kind: 'selfie', skipFaceCheck }));
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { wallMs: wall / work.length, cpuMs: (used.user + used.system) / 1000 / work.length };
}

const best = { without: {}, with: {} };
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order so that neither always runs on a warmer machine; keep each one's best round.
  const order = round % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
  for (const mode of order) {
    for (const concurrency of [1, POOL]) {
      const figures = await measure(mode === 'without', concurrency);
      const key = `c${concurrency}`;
      if (!best[mode][key] || figures.wallMs < best[mode][key].wallMs) best[mode][key] = figures;
    }
  }
}
const row = (label, a, b) => console.log(`  ${label.padEnd(44)} ${String(a).padStart(14)} ${String(b).padStart(14)}`);
console.log(`\nper photo (best of ${ROUNDS} rounds; face models ready in ${readyMs.toFixed(0)} ms, once per process)`);
row('', 'without faces', 'with faces');
for (const concurrency of [1, POOL]) {
  const key = `c${concurrency}`;
  const a = best.without[key];
  const b = best.with[key];
  row(`wall ms per photo, ${concurrency} at a time`, a.wallMs.toFixed(1), b.wallMs.toFixed(1));
  row(`CPU ms per photo, ${concurrency} at a time`, a.cpuMs.toFixed(1), b.cpuMs.toFixed(1));
}
const faceCost = best.with.c1.cpuMs - best.without.c1.cpuMs;
console.log(`  face check alone: ~${faceCost.toFixed(1)} ms CPU per photo`);

// ---- 2. bulk ------------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'smile-bench-faces-'));
const { child: emulator, info } = await startEmulatorProcess(['--processing-ms', '200']);
try {
  mkdirSync(join(dir, 'photos'));
  photos.forEach((path, i) => copyFileSync(path, join(dir, 'photos', `p${i}.jpg`)));
  const env = { SMILE_PARTNER_ID: info.partner_id, SMILE_API_KEY: info.api_key, SMILE_BASE_URL: info.base_url };
  const bulk = async (label, extra) => {
    const lines = ['user_id,selfie'];
    for (let i = 0; i < ROWS; i++) lines.push(`${label}-${Date.now()}-${i},photos/p${i % photos.length}.jpg`);
    const file = join(dir, `${label}.csv`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const probe = join(dir, `${label}.probe.json`);
    const args = ['--import', './test/bench/bulk-probe.mjs', 'bin/smile.js', 'bulk', file, '--json', '--quiet'];
    const result = await run([...args, '--concurrency', String(CONCURRENCY), ...extra], {
      ...env,
      BENCH_PROBE_OUT: probe,
    });
    if (result.code !== 0) throw new Error(`smile bulk exited ${result.code}: ${result.out}\n${result.err}`);
    const usage = JSON.parse(readFileSync(probe, 'utf8'));
    return {
      approved: JSON.parse(result.out).outcomes.approved,
      wallS: result.ms / 1000,
      cpuMsPerRow: (usage.userMs + usage.systemMs) / ROWS,
      rssMb: usage.maxRssBytes / 1048576,
    };
  };
  const without = await bulk('without', ['--skip-face-check']);
  const withFaces = await bulk('with', []);
  console.log(`\nsmile bulk, ${ROWS} rows with results, --concurrency ${CONCURRENCY}, emulator processing 200 ms`);
  row('', 'without faces', 'with faces');
  row('approved', without.approved, withFaces.approved);
  row('wall s', without.wallS.toFixed(1), withFaces.wallS.toFixed(1));
  row('client CPU ms per row', without.cpuMsPerRow.toFixed(1), withFaces.cpuMsPerRow.toFixed(1));
  row('client peak RSS MB', without.rssMb.toFixed(0), withFaces.rssMb.toFixed(0));
} finally {
  emulator.removeAllListeners('exit');
  emulator.kill();
  rmSync(dir, { recursive: true, force: true });
}
