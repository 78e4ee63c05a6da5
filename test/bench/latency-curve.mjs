// Benchmark (prints figures; asserts nothing): time to a result of one registration, the official
// Node SDK (smile-identity-core submit_job with return_job_status, via bulk-sdk-child.mjs with one
// job) beside `smile register`, on the same emulator (tls) at four processing times, cold (a fresh
// SMILE state directory: no learned poll schedule) and warm (after WARMUP registrations against the
// same base URL). Overhead = time to result − processing time: what the client adds (process
// start, selfie check, submit, and how late its polls see the result). Polls = job_status requests
// the emulator received for that job; late = from the result being ready to the request that saw it
// (the poll schedule's share of the overhead; the rest is process start, selfie check, submit and exit).
//
//   npm run build && node test/bench/latency-curve.mjs
//   (env: PROCESSING=1300,3700,6500,10200 WARMUP=2 REPEAT=1)
//
// Goals (issue 14): cold mean overhead ≤ ½ the SDK's; warm ≤ ⅓ the SDK's with no more polls per job.
// The emulator runs in this process (its request log counts the polls); each client is a child process.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runNode } from './lib.mjs';
import { startEmulator } from '../../dist/emulator/index.js';

const PROCESSING = (process.env.PROCESSING ?? '1300,3700,6500,10200').split(',').map(Number);
const WARMUP = Number(process.env.WARMUP ?? 2);
const REPEAT = Math.max(1, Number(process.env.REPEAT ?? 1));
const selfie = join(root, 'fixtures/selfies/demo.jpg');

/** A child with only PATH and HOME of this environment (no SMILE_* leaks in), without colour. */
const run = (args, env) =>
  runNode(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...env, NO_COLOR: '1', CI: '1' });

/** job_status requests for the job, and how late the last one (the one that saw the result) came after the result was ready. */
function pollsOf(emulator, jobId) {
  const polls = emulator.state.requests.filter((entry) => entry.path.endsWith('/job_status') && entry.jobId === jobId);
  const readyAt = emulator.state.jobs.get(jobId)?.readyAt;
  const lateMs = polls.length > 0 && typeof readyAt === 'number' ? Date.parse(polls.at(-1).at) - readyAt : NaN;
  return { polls: polls.length, lateMs };
}

let serial = 0;
async function sdkOnce(emulator) {
  const prefix = `sdk-${Date.now()}-${serial++}`;
  const spec = {
    partnerId: emulator.partnerId,
    apiKey: emulator.apiKey,
    baseUrl: emulator.baseUrl,
    selfie,
    prefix,
    jobs: 1,
    concurrency: 1,
  };
  const result = await run(['test/bench/bulk-sdk-child.mjs', JSON.stringify(spec)], {
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
  });
  const line = JSON.parse(result.out.trim().split('\n').at(-1) ?? '{}');
  if (result.code !== 0 || line.approved !== 1) throw new Error(`SDK run failed: ${result.out}${result.err}`);
  return { ms: result.ms, ...pollsOf(emulator, `job-${prefix}-0`) };
}

async function smileOnce(emulator, configDir) {
  const result = await run(
    ['bin/smile.js', 'register', '--user-id', `bench-${Date.now()}-${serial++}`, '--selfie', selfie, '--json'],
    {
      SMILE_PARTNER_ID: emulator.partnerId,
      SMILE_API_KEY: emulator.apiKey,
      SMILE_BASE_URL: emulator.baseUrl,
      SMILE_CONFIG_DIR: configDir,
      NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    },
  );
  if (result.code !== 0) throw new Error(`smile register exited ${result.code}: ${result.out}${result.err}`);
  const doc = JSON.parse(result.out);
  return { ms: result.ms, ...pollsOf(emulator, doc.job_id) };
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const averaged = (runs) => ({
  ms: mean(runs.map((r) => r.ms)),
  polls: mean(runs.map((r) => r.polls)),
  lateMs: mean(runs.map((r) => r.lateMs)),
});

const rows = { cold: [], warm: [] };
for (const processingMs of PROCESSING) {
  const emulator = await startEmulator({ port: 0, processingMs, tls: true });
  try {
    const sample = { cold: { sdk: [], smile: [] }, warm: { sdk: [], smile: [] } };
    for (let r = 0; r < REPEAT; r++) {
      const configDir = mkdtempSync(join(tmpdir(), 'smile-bench-curve-'));
      try {
        sample.cold.sdk.push(await sdkOnce(emulator));
        sample.cold.smile.push(await smileOnce(emulator, configDir));
        for (let w = 0; w < WARMUP; w++) await smileOnce(emulator, configDir);
        sample.warm.sdk.push(await sdkOnce(emulator));
        sample.warm.smile.push(await smileOnce(emulator, configDir));
      } finally {
        rmSync(configDir, { recursive: true, force: true });
      }
    }
    for (const mode of ['cold', 'warm'])
      rows[mode].push({ processingMs, sdk: averaged(sample[mode].sdk), smile: averaged(sample[mode].smile) });
  } finally {
    await emulator.close();
  }
}

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const pad = (text, width) => String(text).padStart(width);
console.log(
  `latency curve · emulator tls in-process · ${REPEAT} registration(s) per point · warm = after ${WARMUP} · ${process.version} · ${availableParallelism()} CPUs`,
);
for (const mode of ['cold', 'warm']) {
  console.log(`\n${mode}`);
  console.log(
    `  ${pad('processing', 10)} ${pad('SDK time', 9)} ${pad('SDK over', 9)} ${pad('SDK polls', 9)} ${pad('SDK late', 9)} ${pad('smile time', 10)} ${pad('smile over', 10)} ${pad('smile polls', 11)} ${pad('smile late', 10)} ${pad('ratio', 6)}`,
  );
  for (const row of rows[mode]) {
    const sdkOver = row.sdk.ms - row.processingMs;
    const smileOver = row.smile.ms - row.processingMs;
    console.log(
      `  ${pad(s(row.processingMs), 10)} ${pad(s(row.sdk.ms), 9)} ${pad(s(sdkOver), 9)} ${pad(row.sdk.polls.toFixed(1), 9)} ${pad(s(row.sdk.lateMs), 9)} ${pad(s(row.smile.ms), 10)} ${pad(s(smileOver), 10)} ${pad(row.smile.polls.toFixed(1), 11)} ${pad(s(row.smile.lateMs), 10)} ${pad(`${(smileOver / sdkOver).toFixed(2)}×`, 6)}`,
    );
  }
  const sdkMean = mean(rows[mode].map((row) => row.sdk.ms - row.processingMs));
  const smileMean = mean(rows[mode].map((row) => row.smile.ms - row.processingMs));
  const sdkPolls = mean(rows[mode].map((row) => row.sdk.polls));
  const smilePolls = mean(rows[mode].map((row) => row.smile.polls));
  const sdkLate = mean(rows[mode].map((row) => row.sdk.lateMs));
  const smileLate = mean(rows[mode].map((row) => row.smile.lateMs));
  const goal = mode === 'cold' ? 0.5 : 1 / 3;
  console.log(
    `  ${pad('mean', 10)} ${pad('', 9)} ${pad(s(sdkMean), 9)} ${pad(sdkPolls.toFixed(1), 9)} ${pad(s(sdkLate), 9)} ${pad('', 10)} ${pad(s(smileMean), 10)} ${pad(smilePolls.toFixed(1), 11)} ${pad(s(smileLate), 10)} ${pad(`${(smileMean / sdkMean).toFixed(2)}×`, 6)}`,
  );
  console.log(
    `  goal: smile mean overhead ≤ ${mode === 'cold' ? '½' : '⅓'} the SDK's (${s(sdkMean * goal)})${mode === 'warm' ? ', polls per job ≤ the SDK’s at every point' : ''}: ${smileMean <= sdkMean * goal && (mode === 'cold' || rows[mode].every((row) => row.smile.polls <= row.sdk.polls)) ? 'met' : 'not met'}`,
  );
}
