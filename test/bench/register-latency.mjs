// Time to result of one `smile register` against the emulator with --processing-ms 1000 (median of 5),
// beside the floor (processing time + process start). Run after `npm run build`:
//   node test/bench/register-latency.mjs
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../dist/emulator/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 5);
const PROCESSING_MS = 1000;

function run(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['bin/smile.js', ...args], {
      cwd: root,
      env: { ...process.env, ...env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, out }));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const emulator = await startEmulator({ port: 0, processingMs: PROCESSING_MS });
const env = {
  SMILE_PARTNER_ID: emulator.partnerId,
  SMILE_API_KEY: emulator.apiKey,
  SMILE_BASE_URL: emulator.baseUrl,
  SMILE_CONFIG_DIR: '/nonexistent',
};
const total = [];
const startup = [];
for (let i = 0; i < RUNS; i++) {
  const version = await run(['--version'], env);
  startup.push(version.ms);
  const result = await run(
    ['register', '--user-id', `bench-${Date.now()}-${i}`, '--selfie', 'fixtures/selfies/demo.jpg', '--json'],
    env,
  );
  if (result.code !== 0) throw new Error(`register exited ${result.code}: ${result.out}`);
  total.push(result.ms);
}
await emulator.close();
const m = median(total);
const floor = PROCESSING_MS + median(startup);
console.log(`register time to result (emulator --processing-ms ${PROCESSING_MS}, ${RUNS} runs)`);
console.log(`  runs (ms):                         ${total.map((ms) => ms.toFixed(0)).join(', ')}`);
console.log(`  median:                            ${m.toFixed(0)} ms`);
console.log(`  floor (processing + node start):   ${floor.toFixed(0)} ms`);
console.log(
  `  overhead over the floor:           ${(m - floor).toFixed(0)} ms (${((m / floor - 1) * 100).toFixed(0)}%)`,
);
