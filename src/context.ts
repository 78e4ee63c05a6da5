import { Output } from './output/output.js';
import type { OutputStreams } from './output/output.js';
import type { ConnectOptions, SmileConnection } from './connect.js';
import type { Environment } from './config/validate.js';
import { decideColor } from './output/color.js';
import type { ColorMode } from './output/color.js';
import type { JsonFilter } from './output/filter.js';

export type { SmileConnection } from './connect.js';

/** What main() is given: the process's streams and environment, or a test's. */
export interface CliIo extends OutputStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM (bin) or by a test. */
  signal?: AbortSignal;
}

export interface GlobalOptions {
  profile?: string;
  env?: Environment;
  baseUrl?: string;
  json: boolean;
  quiet: boolean;
  /** false with --no-input. */
  input: boolean;
  debug: boolean;
  yes: boolean;
  emulator: boolean;
  /** --color auto|always|never (undefined: auto, the environment decides first). */
  color?: ColorMode;
  /** --jq / --query: a filter for the JSON document on stdout (implies --json). */
  jq?: string;
  query?: string;
}

export interface RunContext {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  out: Output;
  globals: GlobalOptions;
  /** stdin and stdout are TTYs, no --no-input / SMILE_NO_INPUT, not CI: prompts and ink allowed. */
  interactive: boolean;
  /** stderr is a TTY and output is not --json/--quiet: spinners allowed. */
  animate: boolean;
  signal: AbortSignal;
  /** Resolve settings (flag > env > profile), start the emulator with --emulator, build the client. */
  connect(overrides?: ConnectOptions): Promise<SmileConnection>;
  /** Run at the end of the command (closes an in-process emulator). */
  onCleanup(fn: () => Promise<void> | void): void;
  /** Called once by the error boundary when the command is over. */
  runCleanups(): Promise<void>;
  /** --debug trace line on stderr (already redacted by the caller; scrubbed again here). */
  trace(line: string): void;
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export function createContext(io: CliIo, globals: GlobalOptions, signal: AbortSignal, filter?: JsonFilter): RunContext {
  const env = io.env;
  const secrets: (string | undefined)[] = [env['SMILE_API_KEY']];
  const ci = truthy(env['CI']);
  const interactive =
    Boolean(io.stdin.isTTY && io.stdout.isTTY) && globals.input && !truthy(env['SMILE_NO_INPUT']) && !ci;
  const colors = decideColor(globals.color, env, io);
  const out = new Output(io, {
    json: globals.json,
    quiet: globals.quiet,
    color: { ...colors, stdout: colors.stdout && !globals.json },
    secrets: () => secrets,
    filter,
  });
  const cleanups: (() => Promise<void> | void)[] = [];
  let connection: Promise<SmileConnection> | undefined;

  const context: RunContext = {
    io,
    env,
    out,
    globals,
    interactive,
    animate: Boolean(io.stderr.isTTY) && !globals.json && !globals.quiet && !ci && env['TERM'] !== 'dumb',
    signal,
    trace(line) {
      if (globals.debug) out.stderr(`${out.paint('dim', `[debug] ${line}`)}\n`);
    },
    onCleanup(fn) {
      cleanups.push(fn);
    },
    async runCleanups() {
      for (const fn of cleanups.splice(0).reverse()) await fn();
    },
    connect(overrides) {
      connection ??= (async () => {
        const { connectSmile } = await import('./connect.js');
        const made = await connectSmile(context, overrides);
        secrets.push(made.apiKey);
        return made.connection;
      })();
      return connection;
    },
  };
  return context;
}
