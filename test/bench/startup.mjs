// Start-up time of the packaged CLI beside bare Node (issue 6: `smile --version` ≤ 2.0× `node -e 0`).
// Printed figures, not a test. Run after `npm run build`:
//   node test/bench/startup.mjs            (RUNS=15 by default; RUNS=30 node test/bench/startup.mjs)
// Runs are interleaved (one of each command per round) so that machine noise hits every command alike.
// bin/smile.js enables Node's module compile cache; a first warm-up round fills it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 15);

if (!existsSync(join(root, 'dist', 'cli.js'))) {
  console.error('dist/cli.js is missing: run `npm run build` first.');
  process.exit(2);
}

// An isolated HOME and config dir, no CI variables: what a user's shell would give.
const home = mkdtempSync(join(tmpdir(), 'smile-bench-'));
const env = { PATH: process.env.PATH, HOME: home, SMILE_CONFIG_DIR: join(home, 'config'), NO_COLOR: '1' };

const commands = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'smile --version', args: ['bin/smile.js', '--version'] },
  { label: 'smile --help', args: ['bin/smile.js', '--help'] },
  { label: 'smile register --help', args: ['bin/smile.js', 'register', '--help'] },
];

function once(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

try {
  for (const command of commands) once(command.args); // warm-up: file cache and compile cache
  const times = commands.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    commands.forEach((command, index) => times[index].push(once(command.args)));
  }
  const base = median(times[0]);
  console.log(
    `Node ${process.version} on ${process.platform}/${process.arch}, median of ${RUNS} runs each (interleaved)\n`,
  );
  console.log(
    `${'command'.padEnd(24)}${'median'.padStart(10)}${'min'.padStart(10)}${'max'.padStart(10)}${'× node'.padStart(9)}`,
  );
  commands.forEach((command, index) => {
    const values = times[index];
    const med = median(values);
    console.log(
      `${command.label.padEnd(24)}${`${med.toFixed(1)} ms`.padStart(10)}${`${Math.min(...values).toFixed(1)} ms`.padStart(10)}${`${Math.max(...values).toFixed(1)} ms`.padStart(10)}${`${(med / base).toFixed(2)}×`.padStart(9)}`,
    );
  });
  const ratio = median(times[1]) / base;
  console.log(`\nGoal: smile --version ≤ 2.00× node -e 0 → ${ratio.toFixed(2)}× ${ratio <= 2 ? '(met)' : '(NOT met)'}`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
