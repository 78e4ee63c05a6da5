import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { main } from '../../src/cli.js';
import type { ArgSpec, CommandDefinition, OptionSpec, ValuesOf } from '../../src/commands/define.js';
import { createContext } from '../../src/context.js';
import type { GlobalOptions, RunContext } from '../../src/context.js';
import { Output } from '../../src/output/output.js';

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface CommandContextOptions {
  json?: boolean;
  /** Colour on, as on a terminal without NO_COLOR. */
  color?: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** A RunContext over captured streams (no terminal, no prompts), for calling a definition's `run` directly. */
export function commandContext(io: CommandIo, options: CommandContextOptions = {}): RunContext {
  const globals: GlobalOptions = {
    json: options.json ?? false,
    quiet: false,
    input: false,
    debug: false,
    yes: false,
    emulator: false,
  };
  const context = createContext(
    { ...io, stdin: new PassThrough(), env: options.env ?? {} },
    globals,
    options.signal ?? new AbortController().signal,
  );
  return { ...context, out: new Output(io, { json: globals.json, quiet: false, color: options.color ?? false }) };
}

/**
 * Runs one command definition with typed values, as cli.ts would after parsing: its exit code, or
 * the error it throws (not rendered: the error boundary is cli.ts's, not the test's).
 */
export async function runDefinition<
  O extends Record<string, OptionSpec<unknown>>,
  A extends Record<string, ArgSpec<unknown>>,
>(
  definition: CommandDefinition<O, A>,
  values: ValuesOf<O> & ValuesOf<A>,
  io: CommandIo,
  options: CommandContextOptions = {},
): Promise<number> {
  return definition.run(values, commandContext(io, options), { program: new Command('smile') });
}

/**
 * Runs the real CLI entry in-process on the caller's streams, for a command that keeps running
 * (`smile emulator`): read its output while it runs, abort `signal` to stop it; resolves to the exit code.
 */
export function runCliOnStreams(
  argv: string[],
  io: CommandIo,
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<number> {
  const env = { PATH: process.env['PATH'], NO_COLOR: '1', ...options.env };
  return main(argv, { ...io, stdin: new PassThrough(), env, ...(options.signal ? { signal: options.signal } : {}) });
}
