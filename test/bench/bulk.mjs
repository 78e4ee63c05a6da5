// Benchmark (prints figures; asserts nothing): `smile bulk` with results at concurrency 16 against the
// official smile-identity-core SDK doing the same registrations (submit_job with return_job_status,
// 16 at a time), side by side in one run on the emulator with --tls --processing-ms 1000.
//
//   npm run build && node test/bench/bulk.mjs
//   (env: ROWS=1000 LARGE_ROWS=20000 SDK_JOBS=160 CONCURRENCY=16 to change the sizes)
//
// Each client runs in its own process (the SDK needs NODE_EXTRA_CA_CERTS at start; CPU and peak
// RSS are the client's own, measured in-process by bulk-probe.mjs / the child). The emulator runs
// in a third process so its work is never counted as a client's.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, run, startEmulatorProcess } from './lib.mjs';

const ROWS = Number(process.env.ROWS ?? 1000);
const LARGE_ROWS = Number(process.env.LARGE_ROWS ?? 20000);
const SDK_JOBS = Number(process.env.SDK_JOBS ?? 160);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const PROCESSING_MS = 1000;

function writeRows(dir, name, count, prefix) {
  const lines = ['user_id,selfie'];
  for (let i = 0; i < count; i++) lines.push(`${prefix}-${i},photos/face.jpg`);
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function runBulk(dir, emulatorEnv, rows, label, extra = []) {
  const file = writeRows(dir, `${label}.csv`, rows, `${label}-${Date.now()}`);
  const probe = join(dir, `${label}.probe.json`);
  const result = await run(
    [
      '--import',
      './test/bench/bulk-probe.mjs',
      'bin/smile.js',
      'bulk',
      file,
      '--concurrency',
      String(CONCURRENCY),
      '--json',
      '--quiet',
      ...extra,
    ],
    { ...emulatorEnv, BENCH_PROBE_OUT: probe },
  );
  if (result.code !== 0)
    throw new Error(`smile bulk (${rows} rows) exited ${result.code}: ${result.out}\n${result.err}`);
  const summary = JSON.parse(result.out);
  const usage = JSON.parse(readFileSync(probe, 'utf8'));
  return {
    rows,
    approved: summary.outcomes.approved,
    checked: summary.outcomes.checked,
    wallMs: result.ms,
    cpuMs: usage.userMs + usage.systemMs,
    maxRss: usage.maxRssBytes,
  };
}

const mb = (bytes) => `${(bytes / 1048576).toFixed(0)} MB`;
const pad = (text, width) => String(text).padEnd(width);

const dir = mkdtempSync(join(tmpdir(), 'smile-bench-bulk-'));
mkdirSync(join(dir, 'photos'));
const selfie = join(dir, 'photos', 'face.jpg');
copyFileSync(join(root, 'fixtures/selfies/demo.jpg'), selfie);
const { child: emulatorProcess, info } = await startEmulatorProcess([
  '--tls',
  '--processing-ms',
  String(PROCESSING_MS),
]);
const emulatorEnv = {
  SMILE_PARTNER_ID: info.partner_id,
  SMILE_API_KEY: info.api_key,
  SMILE_BASE_URL: info.base_url,
  SMILE_CONFIG_DIR: join(dir, 'config'),
  NODE_EXTRA_CA_CERTS: info.ca_cert,
};
try {
  console.log(
    `emulator ${info.base_url} (tls, processing ${PROCESSING_MS} ms) · concurrency ${CONCURRENCY} · ${process.version} · ${(await import('node:os')).availableParallelism()} CPUs`,
  );

  // The SDK first (small: ~2 s per job with its 2 s poll sleeps, so SDK_JOBS/16 × ~2 s).
  const sdkProbe = join(dir, 'sdk.probe.json');
  const sdkSpec = {
    partnerId: info.partner_id,
    apiKey: info.api_key,
    baseUrl: info.base_url,
    selfie,
    prefix: `sdk-${Date.now()}`,
    jobs: SDK_JOBS,
    concurrency: CONCURRENCY,
  };
  const sdk = await run(
    ['--import', './test/bench/bulk-probe.mjs', 'test/bench/bulk-sdk-child.mjs', JSON.stringify(sdkSpec)],
    { ...emulatorEnv, BENCH_PROBE_OUT: sdkProbe },
  );
  if (sdk.code !== 0) throw new Error(`SDK child exited ${sdk.code}: ${sdk.err}`);
  const sdkResult = JSON.parse(sdk.out.trim().split('\n').at(-1));
  const sdkUsage = JSON.parse(readFileSync(sdkProbe, 'utf8'));
  if (sdkResult.approved !== SDK_JOBS)
    console.log(
      `  (SDK: ${sdkResult.approved}/${SDK_JOBS} approved; first failures ${JSON.stringify(sdkResult.failures)})`,
    );

  const small = await runBulk(dir, emulatorEnv, ROWS, 'bulk-small');
  // The same rows with --dry-run: only the sharp selfie checks (and reading the file), nothing sent.
  const checksOnly = await runBulk(dir, emulatorEnv, ROWS, 'bulk-dry', ['--dry-run']);
  // The same rows sent without the face detector (--skip-face-check: sharp's checks only).
  const noFace = await runBulk(dir, emulatorEnv, ROWS, 'bulk-noface', ['--skip-face-check']);
  const large = await runBulk(dir, emulatorEnv, LARGE_ROWS, 'bulk-large');

  const sdkJobsPerSecond = SDK_JOBS / (sdk.ms / 1000);
  const bulkJobsPerSecond = small.rows / (small.wallMs / 1000);
  const sdkCpu = (sdkUsage.userMs + sdkUsage.systemMs) / SDK_JOBS;
  const bulkCpu = small.cpuMs / small.rows;
  const largeJobsPerSecond = large.rows / (large.wallMs / 1000);

  console.log('');
  console.log(`${pad('', 34)}${pad(`smile bulk (${small.rows} rows)`, 26)}${pad(`SDK (${SDK_JOBS} jobs)`, 20)}`);
  console.log(
    `${pad('approved', 34)}${pad(`${small.approved}/${small.rows}`, 26)}${pad(`${sdkResult.approved}/${SDK_JOBS}`, 20)}`,
  );
  console.log(
    `${pad('wall time (process start to exit)', 34)}${pad(`${(small.wallMs / 1000).toFixed(1)} s`, 26)}${pad(`${(sdk.ms / 1000).toFixed(1)} s`, 20)}`,
  );
  console.log(`${pad('jobs/s', 34)}${pad(bulkJobsPerSecond.toFixed(1), 26)}${pad(sdkJobsPerSecond.toFixed(1), 20)}`);
  console.log(`${pad('client CPU ms per job', 34)}${pad(bulkCpu.toFixed(1), 26)}${pad(sdkCpu.toFixed(1), 20)}`);
  console.log(`${pad('peak RSS', 34)}${pad(mb(small.maxRss), 26)}${pad(mb(sdkUsage.maxRssBytes), 20)}`);
  console.log('');
  console.log(`throughput ratio smile bulk / SDK: ${(bulkJobsPerSecond / sdkJobsPerSecond).toFixed(1)}× (goal 10×)`);
  const checksCpu = checksOnly.cpuMs / checksOnly.rows;
  console.log(`CPU per job smile bulk / SDK:      ${(bulkCpu / sdkCpu).toFixed(2)} (goal ≤ 1)`);
  console.log(
    `  of smile bulk's ${bulkCpu.toFixed(1)} ms/job, ${checksCpu.toFixed(1)} ms is the sharp selfie check (a --dry-run of the same rows), which the SDK does not do;`,
  );
  console.log(
    `  the rest (protocol, TLS, journal, polling): ${(bulkCpu - checksCpu).toFixed(1)} ms/job vs the SDK's ${sdkCpu.toFixed(1)}`,
  );
  console.log(
    `with --skip-face-check (${noFace.rows} rows): ${(noFace.rows / (noFace.wallMs / 1000)).toFixed(1)} jobs/s (${(noFace.rows / (noFace.wallMs / 1000) / sdkJobsPerSecond).toFixed(1)}× the SDK), ${(noFace.cpuMs / noFace.rows).toFixed(1)} CPU ms/job, peak RSS ${mb(noFace.maxRss)}`,
  );
  console.log(
    `smile bulk peak RSS: ${small.rows} rows ${mb(small.maxRss)} · ${large.rows} rows ${mb(large.maxRss)} (goal: the same, under 150 MB)`,
  );
  console.log(
    `smile bulk ${large.rows} rows: ${largeJobsPerSecond.toFixed(1)} jobs/s, ${(large.cpuMs / large.rows).toFixed(1)} CPU ms/job, ${large.approved} approved`,
  );
} finally {
  emulatorProcess.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
