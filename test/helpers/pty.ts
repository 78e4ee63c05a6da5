import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin', 'smile.js');

/** A shell word, quoted for sh (util-linux `script -c` runs its command with the shell). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An SGR (colour) sequence anywhere in the text. */
// eslint-disable-next-line no-control-regex
export const SGR = /\u001b\[[0-9;]*m/;

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
  const command = `${size}exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
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

export interface FinishedPtyRun {
  code: number | null;
  /** What the terminal showed (every stream left on the terminal, in order; CR LF as the pty writes it). */
  screen: string;
}

/**
 * Runs the packaged `bin/smile.js` to its end under a real pseudo-terminal, with no input: stdin,
 * stdout and stderr are a TTY unless `redirect` (shell text such as `> out.txt` or `2> err.txt`)
 * sends one of them elsewhere. The exit code is the command's (`script -e`).
 */
export function runToEndInPty(args: readonly string[], env: NodeJS.ProcessEnv, redirect = ''): Promise<FinishedPtyRun> {
  const command = `stty cols 100 rows 40 2>/dev/null; exec ${shellQuote(process.execPath)} bin/smile.js ${args.map(shellQuote).join(' ')} ${redirect}`;
  return new Promise((done, fail) => {
    execFile(
      'script',
      ['-q', '-e', '-c', command, '/dev/null'],
      { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        if (error && typeof error.code !== 'number') {
          fail(error);
          return;
        }
        done({ code: error ? (error.code as number) : 0, screen: stdout });
      },
    );
  });
}
