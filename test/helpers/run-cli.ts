import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';

export interface RunCliOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** Pretend stdin/stdout/stderr are terminals. */
  isTTY?: boolean;
  signal?: AbortSignal;
}

export interface RunCliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws when it is not exactly one document). */
  json<T = Record<string, unknown>>(): T;
}

function stream(isTTY: boolean): PassThrough & { isTTY?: boolean; columns?: number } {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (isTTY) {
    // The parts of tty.WriteStream that ora and ink call on a terminal.
    Object.assign(s, {
      isTTY: true,
      columns: 100,
      rows: 40,
      cursorTo: (_x: number, _y?: unknown, cb?: () => void) => (
        typeof _y === 'function' ? (_y as () => void)() : cb?.(),
        true
      ),
      moveCursor: (_dx: number, _dy: number, cb?: () => void) => (cb?.(), true),
      clearLine: (_dir: number, cb?: () => void) => (cb?.(), true),
      clearScreenDown: (cb?: () => void) => (cb?.(), true),
      getWindowSize: () => [100, 40],
      hasColors: () => false,
      getColorDepth: () => 1,
    });
  }
  return s;
}

/** Run the real CLI entry in-process with captured streams and an explicit environment. */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<RunCliResult> {
  const stdout = stream(options.isTTY === true);
  const stderr = stream(options.isTTY === true);
  const stdin = stream(options.isTTY === true) as PassThrough & {
    isTTY?: boolean;
    setRawMode?: (mode: boolean) => unknown;
  };
  if (options.isTTY) stdin.setRawMode = () => stdin;
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', ...options.env };
  const code = await main(argv, { stdout, stderr, stdin, env, ...(options.signal ? { signal: options.signal } : {}) });
  return {
    code,
    stdout: out,
    stderr: err,
    json<T>() {
      return JSON.parse(out) as T;
    },
  };
}
