// Start-up and submit (issue 14): process start to exit of `smile register --no-wait` (selfie checked,
// prep upload, zip PUT) beside the official SDK's submit_job without return_job_status (prep upload and
// zip PUT), both against one emulator in its own process over TLS. Runs are interleaved.
//   npm run build && node test/bench/register-start.mjs      (RUNS=9 by default; BASELINE=DIR: see below)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, runNode, startEmulatorProcess } from './lib.mjs';

const RUNS = Number(process.env.RUNS ?? 9);
const SELFIE = process.env.SELFIE ?? 'fixtures/selfies/demo.jpg';

/** Wall time of `node ARGS` in ms; a failed run stops the benchmark. */
async function run(args, env) {
  const result = await runNode(args, env);
  if (result.code !== 0) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.out}${result.err}`);
  return result.ms;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const home = mkdtempSync(join(tmpdir(), 'smile-bench-start-'));
const { child: emulator, info } = await startEmulatorProcess(['--tls']);
const env = {
  PATH: process.env.PATH,
  HOME: home,
  NO_COLOR: '1',
  CI: '1',
  SMILE_CONFIG_DIR: join(home, 'config'),
  SMILE_PARTNER_ID: info.partner_id,
  SMILE_API_KEY: info.api_key,
  SMILE_BASE_URL: info.base_url,
  NODE_EXTRA_CA_CERTS: info.ca_cert,
};
const sdkChild = `
import smile from 'smile-identity-core';
const [partnerId, apiKey, baseUrl, selfie, id] = process.argv.slice(1);
const api = new smile.WebApi(partnerId, 'https://127.0.0.1:9/callback', apiKey, baseUrl);
const result = await api.submit_job({ user_id: id, job_id: 'job-' + id, job_type: 4 }, [{ image_type_id: 0, image: selfie }], {}, {});
if (!result || result.success !== true) { console.error(JSON.stringify(result)); process.exit(1); }
process.exit(0);`;
const variants = [
  { label: 'node -e 0', args: () => ['-e', '0'] },
  {
    label: 'smile register --no-wait',
    args: (id) => ['bin/smile.js', 'register', '--user-id', id, '--selfie', SELFIE, '--no-wait', '--json'],
  },
  {
    label: 'smile … --skip-face-check',
    args: (id) => [
      'bin/smile.js',
      'register',
      '--user-id',
      id,
      '--selfie',
      SELFIE,
      '--no-wait',
      '--json',
      '--skip-face-check',
    ],
  },
  {
    label: 'SDK submit_job',
    args: (id) => [
      '--input-type=module',
      '-e',
      sdkChild,
      info.partner_id,
      info.api_key,
      info.base_url,
      join(root, SELFIE),
      id,
    ],
  },
];
// BASELINE=DIR adds the same command run from another build (a checkout with its own bin/ and dist/).
if (process.env.BASELINE) {
  const bin = join(process.env.BASELINE, 'bin', 'smile.js');
  variants.push({
    label: 'baseline register --no-wait',
    args: (id) => [bin, 'register', '--user-id', id, '--selfie', SELFIE, '--no-wait', '--json'],
  });
}
try {
  const times = variants.map(() => []);
  let n = 0;
  for (const variant of variants) await run(variant.args(`warm-${Date.now()}-${n++}`), env); // fill caches
  for (let round = 0; round < RUNS; round++) {
    for (const [index, variant] of variants.entries())
      times[index].push(await run(variant.args(`start-${Date.now()}-${n++}`), env));
  }
  console.log(`${info.base_url} (tls) · ${SELFIE} · ${process.version} · median of ${RUNS} interleaved runs\n`);
  console.log(`${'command'.padEnd(30)}${'median'.padStart(10)}${'min'.padStart(10)}${'max'.padStart(10)}`);
  variants.forEach((variant, index) => {
    const values = times[index];
    console.log(
      `${variant.label.padEnd(30)}${`${median(values).toFixed(0)} ms`.padStart(10)}${`${Math.min(...values).toFixed(0)} ms`.padStart(10)}${`${Math.max(...values).toFixed(0)} ms`.padStart(10)}`,
    );
  });
  console.log(`\nsmile register --no-wait / SDK: ${(median(times[1]) / median(times[3])).toFixed(2)}×`);
} finally {
  emulator.kill('SIGTERM');
  rmSync(home, { recursive: true, force: true });
}
