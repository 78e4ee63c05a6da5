// What the benchmarks share: running a node script as a child process (timed, output kept) and
// starting `smile emulator` in a process of its own (so that its work is never counted as a client's).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs `node ARGS` in the repository with exactly `env`; resolves with the exit code, the wall time
 * in ms and what it printed.
 */
export function runNode(args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, out, err }));
  });
}

/** `runNode` with this process's environment plus `env`, without colour, as in CI. */
export function run(args, env = {}) {
  return runNode(args, { ...process.env, ...env, NO_COLOR: '1', CI: '1' });
}

/** `smile emulator --json --port 0 ARGS` in its own process; resolves once it prints its document. */
export function startEmulatorProcess(args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/smile.js', 'emulator', '--json', '--port', '0', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
