import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface PtyRun {
  code: number | null;
  /** What the terminal showed (every stream left on the terminal, in order; CR LF as the pty writes it). */
  screen: string;
}

/** A shell word, quoted for sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the packaged `bin/smile.js` under a real pseudo-terminal (`script` from util-linux): stdin,
 * stdout and stderr are a TTY unless `redirect` (shell text such as `> out.txt` or `2> err.txt`)
 * sends one of them elsewhere. The exit code is the command's (`script -e`).
 */
export function runInPty(args: readonly string[], env: NodeJS.ProcessEnv, redirect = ''): Promise<PtyRun> {
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

/** An SGR (colour) sequence anywhere in the text. */
// eslint-disable-next-line no-control-regex
export const SGR = /\u001b\[[0-9;]*m/;
