// Benchmark (prints figures; asserts nothing): `smile bulk` of ROWS rows against `smile emulator`, once
// without a state file and once with `--state-file`, each in its own processes (issue 9 item 12).
//
//   npm run build && node test/bench/emulator-state.mjs      (env: ROWS=200 CONCURRENCY=4)
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, run, startEmulatorProcess } from './lib.mjs';

const ROWS = Number(process.env.ROWS ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);

function sizeOf(path) {
  try {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.size;
    return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
  } catch {
    return 0;
  }
}

async function trial(dir, label, stateFile) {
  const { child, info, stderr } = await startEmulatorProcess([
    '--processing-ms',
    '50',
    ...(stateFile ? ['--state-file', stateFile] : []),
  ]);
  const lines = ['user_id,selfie'];
  for (let i = 0; i < ROWS; i++) lines.push(`${label}-${i},../photos/face.jpg`);
  const rows = join(dir, 'rows', `${label}.csv`);
  writeFileSync(rows, `${lines.join('\n')}\n`);
  const env = {
    SMILE_PARTNER_ID: info.partner_id,
    SMILE_API_KEY: info.api_key,
    SMILE_BASE_URL: info.base_url,
    SMILE_CONFIG_DIR: join(dir, 'config'),
  };
  const result = await run(
    ['bin/smile.js', 'bulk', rows, '--concurrency', String(CONCURRENCY), '--json', '--quiet'],
    env,
  );
  const stopped = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGINT');
  await stopped;
  const summary = result.out ? JSON.parse(result.out) : {};
  const files = stateFile ? readdirSync(join(dir, 'emu')) : [];
  const bytes = sizeOf(join(dir, 'emu'));
  console.log(
    `${label.padEnd(14)} exit ${result.code} · ${ROWS} rows · approved ${summary.outcomes?.approved ?? '?'} · ${(result.ms / 1000).toFixed(1)} s` +
      (stateFile ? ` · on disk ${(bytes / 1048576).toFixed(1)} MB (${files.join(', ')})` : ''),
  );
  if (result.code !== 0) console.log(result.err.slice(-2000));
  const noise = stderr()
    .split('\n')
    .filter((l) => l && !/emulator running|Stop it|Fault/.test(l));
  if (noise.length > 0) console.log(`  emulator stderr: ${noise.slice(0, 5).join(' | ')}`);
}

const dir = mkdtempSync(join(tmpdir(), 'smile-bench-emustate-'));
mkdirSync(join(dir, 'photos'));
mkdirSync(join(dir, 'rows'));
copyFileSync(join(root, 'fixtures/selfies/demo.jpg'), join(dir, 'photos', 'face.jpg'));
try {
  console.log(
    `smile bulk ${ROWS} rows · concurrency ${CONCURRENCY} · emulator --processing-ms 50 · ${process.version}`,
  );
  await trial(dir, 'no-state-file', undefined);
  await trial(dir, 'state-file', join(dir, 'emu', 'state.json'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
