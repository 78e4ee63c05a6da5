// `npm run bench`: every benchmark in turn, each printing its figures beside its baseline.
// Needs dist/ (npm ci or npm run build). BENCH=startup,selfie node test/bench/run.mjs runs a subset.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const all = {
  startup: ['test/bench/startup.mjs'],
  register: ['test/bench/register-latency.mjs'],
  latency: ['test/bench/latency-curve.mjs'],
  selfie: ['--expose-gc', 'test/bench/selfie-check.mjs'],
  faces: ['test/bench/faces.mjs'],
  bulk: ['test/bench/bulk.mjs'],
  reliability: ['test/bench/reliability.mjs'],
  'emulator-state': ['test/bench/emulator-state.mjs'],
  report: ['test/bench/report.mjs'],
};
const chosen = (process.env.BENCH ?? Object.keys(all).join(',')).split(',');
let failed = 0;
for (const name of chosen) {
  const args = all[name];
  if (!args) {
    console.error(`unknown benchmark ${name}; choose from ${Object.keys(all).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ===`);
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
