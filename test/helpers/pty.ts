import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const BIN = join(resolve(import.meta.dirname, '../..'), 'bin', 'smile.js');

/** A word of a `sh -c` line (util-linux `script -c` runs its command with the shell). */
const word = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export interface PtyRun {
  /** Everything the terminal showed so far (stdout and stderr together, as on a screen). */
  screen(): string;
  /** Type on the terminal (`\r` is Enter, `\x03` is Ctrl-C). */
  type(keys: string): void;
  /** The exit code of smile. */
  exited: Promise<number | null>;
}

/**
 * `bin/smile.js ARGS` on a real terminal: util-linux `script` gives it a pty, so stdin, stdout
 * and stderr are TTYs as for an operator, and Ctrl-C is the terminal's (SIGINT to the process).
 */
export function runInPty(args: string[], env: NodeJS.ProcessEnv, options: { unsized?: boolean } = {}): PtyRun {
  // A terminal of 100 × 40, as a window has (`script` on a pipe starts its pty at 0 × 0: `unsized`).
  const size = options.unsized ? '' : 'stty cols 100 rows 40; ';
  const command = `${size}exec ${[process.execPath, BIN, ...args].map(word).join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((done) =>
    child.on('close', (code) => {
      child.stdin.end();
      done(code);
    }),
  );
  return { screen: () => screen, type: (keys) => child.stdin.write(keys), exited };
}
