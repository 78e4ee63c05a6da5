// Benchmark (prints figures; asserts nothing): `smile bulk` of ROWS rows against `smile emulator`, once
// without a state file and once with `--state-file`, each in its own processes (issue 9 item 12).
//
//   npm run build && node test/bench/emulator-state.mjs      (env: ROWS=200 CONCURRENCY=4)
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ROWS = Number(process.env.ROWS ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);

function startEmulatorProcess(extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['bin/smile.js', 'emulator', '--json', '--port', '0', '--processing-ms', '50', ...extra],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve({ child, info: JSON.parse(out.split('\n')[0]), stderr: () => err });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}: ${err}`)));
  });
}

function run(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, out, err }));
  });
}

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
  const { child, info, stderr } = await startEmulatorProcess(stateFile ? ['--state-file', stateFile] : []);
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
