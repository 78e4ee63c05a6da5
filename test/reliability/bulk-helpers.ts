/** Shared parts of the bulk reliability tests: real child processes of bin/smile.js, journal records. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Spawned {
  child: ChildProcess;
  exit: Promise<Exit>;
  /** Output so far (the process may still run). */
  stderr(): string;
}

const children = new Set<ChildProcess>();

/** Run `node bin/smile.js …args` (dist/, rebuilt by test/global-setup.ts) with a clean, non-TTY environment. */
export function spawnSmile(args: string[], env: NodeJS.ProcessEnv, options: { stdin?: string } = {}): Spawned {
  const child = spawn(process.execPath, ['bin/smile.js', ...args], {
    env: { PATH: process.env['PATH'], ...env, NO_COLOR: '1', CI: '1' },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exit, stderr: () => stderr };
}

/** SIGKILL every child still running (afterEach). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** Records of one type in a journal (0 when it does not exist yet). */
export function countRecords(journal: string, type: string): number {
  if (!existsSync(journal)) return 0;
  return (readFileSync(journal, 'utf8').match(new RegExp(`"t":"${type}"`, 'g')) ?? []).length;
}
