import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import type { CliIo, GlobalOptions, RunContext } from './context.js';
import type { AnyCommand, CommandDefinition, CommandMeta, OptionSpec } from './commands/define.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

type Handler = (ctx: RunContext) => Promise<number>;
type Commander = typeof import('commander');

type Define = typeof import('./commands/define.js');

/** The options every command takes (product.md "Global flags"). */
const globalOptions = ({ choice, flag, negatedFlag, text }: Define) => ({
  profile: text('--profile <name>', 'config profile to use (env SMILE_PROFILE)'),
  env: choice('--env <environment>', 'sandbox or production (env SMILE_ENV)', ['sandbox', 'production']),
  baseUrl: text('--base-url <url>', 'v1 API base including /v1 (env SMILE_BASE_URL)'),
  json: flag('--json', 'print exactly one JSON document on stdout'),
  quiet: flag('--quiet', 'no progress or info lines on stderr'),
  input: negatedFlag('--no-input', 'never prompt; fail with the flag to pass instead (env SMILE_NO_INPUT)'),
  debug: flag('--debug', 'trace HTTP requests on stderr (key, signatures and images redacted)'),
  yes: flag('--yes', 'answer yes to confirmations (production bulk)'),
  emulator: flag('--emulator', 'run against an in-process Smile ID emulator: no account needed'),
  color: choice('--color <when>', 'when to colour (env NO_COLOR, CLICOLOR_FORCE)', ['auto', 'always', 'never']),
  jq: text('--jq <expression>', 'filter the JSON document with a jq expression (implies --json)'),
  query: text('--query <expression>', 'filter the JSON document with a JMESPath expression (implies --json)'),
});

/** What the program is built from: loaded after the bare `--version` answer, which needs none of it. */
interface ProgramParts {
  commander: Pick<Commander, 'Command' | 'Option' | 'Argument'>;
  define: Define;
  commands: readonly AnyCommand[];
}

/**
 * The program: global options, one definition per command (flags only; the work is imported
 * when the command runs), and the ONE error boundary. Returns the exit code; never exits.
 */
export async function main(argv: readonly string[], partialIo: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    stdout: partialIo.stdout ?? process.stdout,
    stderr: partialIo.stderr ?? process.stderr,
    stdin: partialIo.stdin ?? process.stdin,
    env: partialIo.env ?? process.env,
    ...(partialIo.signal ? { signal: partialIo.signal } : {}),
  };
  // `smile --version` alone is answered before commander loads: scripts and CI call it to probe the
  // tool, and it is the start-up benchmark (test/bench/startup.mjs).
  if (argv.length === 1 && ['--version', '-V', '-v', 'version'].includes(argv[0]!)) {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // Loaded only now (in parallel), so that the bare `--version` above never pays for them.
  const [commander, define, { COMMANDS }, { ExitCode, UsageError, isSmileCliError }] = await Promise.all([
    import('commander'),
    import('./commands/define.js'),
    import('./commands/index.js'),
    import('./errors.js'),
  ]);
  const { signal, dispose } = interruptSignal(io.signal, ExitCode.interrupted);
  let chosen: { run: Handler; globals: GlobalOptions } | undefined;
  const program = buildProgram(
    io,
    (run, globals) => {
      chosen = { run, globals };
    },
    { commander, define, commands: COMMANDS },
  );
  const wantsJson = argv.some((word) => word === '--json' || /^--(jq|query)(=|$)/.test(word));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    dispose();
    if (
      error instanceof commander.CommanderError &&
      (error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help')
    )
      return ExitCode.ok;
    // Parse-time failures (commander's own, or a typed error from an option parser such as
    // --concurrency abc) get the same rendering as any other error: message, hint, exit code.
    const { Output } = await import('./output/output.js');
    const out = new Output(io, { json: wantsJson, quiet: false, color: false });
    const shown =
      error instanceof commander.CommanderError
        ? new UsageError(capitalise(error.message.replace(/^error:\s*/i, '')), {
            hint: `See \`${['smile', ...commandPath(program, argv)].join(' ')} --help\`.`,
          })
        : error;
    out.error(shown, { debug: argv.includes('--debug') });
    return isSmileCliError(shown) ? shown.exitCode : ExitCode.bug;
  }
  if (!chosen) {
    dispose();
    return ExitCode.ok;
  }
  const { run, globals } = chosen;
  // --jq / --query imply --json: they filter its document.
  if (globals.jq !== undefined || globals.query !== undefined) globals.json = true;
  // Loaded only now, so that `--version` and `--help` never pay for them.
  const [{ createContext }, { runWithErrorBoundary }, { makeJsonFilter, FilterError }, { useChalkFor }] =
    await Promise.all([
      import('./context.js'),
      import('./boundary.js'),
      import('./output/filter.js'),
      import('./output/color.js'),
    ]);
  let filter: ReturnType<typeof makeJsonFilter>;
  let filterProblem: unknown;
  try {
    filter = makeJsonFilter(globals);
  } catch (error) {
    filterProblem = error;
  }
  const context = createContext(io, globals, signal, filter);
  // ink and ora (chalk) write to stderr while a command runs: colour as decided for stderr. They
  // only run on a terminal, so a piped run (scripts, CI) does not load chalk for nothing.
  if (io.stderr.isTTY || io.stdout.isTTY)
    await useChalkFor(context.out.colors.stderr, io.stderr as { getColorDepth?: () => number });
  try {
    const code = await runWithErrorBoundary(context, async () => {
      if (filterProblem !== undefined) throw filterProblem;
      await filter?.check();
      return run(context);
    });
    try {
      await context.out.flush();
    } catch (error) {
      const shown = error instanceof FilterError ? error.afterExit(code) : error;
      context.out.error(shown, { debug: globals.debug });
      return isSmileCliError(shown) ? shown.exitCode : ExitCode.bug;
    }
    return code;
  } finally {
    dispose();
  }
}

/** The words of the command that argv names (`profile add`), as far as they match the program's commands. */
function commandPath(program: Command, argv: readonly string[]): string[] {
  const path: string[] = [];
  let current = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const sub = current.commands.find((command) => command.name() === word || command.aliases().includes(word));
    if (!sub) continue;
    path.push(sub.name());
    current = sub;
  }
  return path;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Ctrl-C / SIGTERM abort the run once (commands clean up and exit 130); a second Ctrl-C exits at once. */
function interruptSignal(
  given: AbortSignal | undefined,
  interruptedCode: number,
): { signal: AbortSignal; dispose: () => void } {
  if (given) return { signal: given, dispose: () => undefined };
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(interruptedCode);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/**
 * The commander program from the table of command definitions. `choose` receives the command
 * that matched, bound to its typed values, and the global options; nothing runs here.
 */
export function buildProgram(
  io: CliIo,
  choose: (run: Handler, globals: GlobalOptions) => void,
  { commander, define, commands }: ProgramParts,
): Command {
  const GLOBAL_OPTIONS = globalOptions(define);
  const { readValues } = define;
  const program = new commander.Command('smile');
  program
    .description('Register (enroll) people with Smile ID SmartSelfie™ Authentication.')
    .version(VERSION, '-V, --version', 'print the version');
  const globalNames = addOptions(program, GLOBAL_OPTIONS, commander);
  // Every subcommand page lists the global flags under "Global Options:" (gh's INHERITED FLAGS):
  // `profile add` needs --env, `register` takes --json. Taken from the program's own options, so a
  // global flag added to the table shows up everywhere; --version answers only `smile --version`.
  program.configureHelp({
    showGlobalOptions: true,
    visibleGlobalOptions: (cmd) => {
      const inherited: Option[] = [];
      for (let parent = cmd.parent; parent; parent = parent.parent)
        inherited.push(...parent.options.filter((option) => !option.hidden && option.long !== '--version'));
      return inherited;
    },
  });
  program
    .showSuggestionAfterError(true)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    })
    .addHelpText(
      'after',
      examples([
        'npx smile register --emulator --user-id demo-1 --selfie fixtures/selfies/demo.jpg',
        'smile profile add sandbox --partner-id 085 --env sandbox',
        'smile register --user-id u-1 --selfie face.jpg --json',
        'smile status --user-id u-1 --job-id job-… --wait',
        'smile selfie check photos/*.jpg',
      ]),
    );
  const meta: CommandMeta = { program };
  const add = (parent: Command, definition: AnyCommand) => {
    const command = parent.command(definition.name).description(definition.summary);
    if (definition.kind === 'group') {
      for (const sub of definition.commands) add(command, sub);
      return;
    }
    wire(command, definition, meta, commander, readValues, (run, values) =>
      choose(
        run,
        readValues(GLOBAL_OPTIONS, (key) => values[globalNames[key]!]),
      ),
    );
  };
  for (const definition of commands) add(program, definition);
  program.helpCommand(false);
  return program;
}

/** Declare a definition's arguments and options on its commander command, and its action. */
function wire(
  command: Command,
  definition: CommandDefinition,
  meta: CommandMeta,
  commander: Pick<Commander, 'Option' | 'Argument'>,
  readValues: Define['readValues'],
  choose: (run: Handler, globals: Record<string, unknown>) => void,
): void {
  const args = Object.entries(definition.args ?? {});
  for (const [, spec] of args) command.addArgument(spec.create(commander));
  const names = addOptions(command, definition.options ?? {}, commander);
  if (definition.examples !== undefined || definition.after !== undefined) {
    const after = definition.after;
    command.addHelpText(
      'after',
      () =>
        `${definition.examples ? examples(definition.examples) : ''}${typeof after === 'function' ? after() : (after ?? '')}`,
    );
  }
  command.action(function (this: Command) {
    const opts = this.opts();
    const values = {
      ...readValues(definition.options ?? {}, (key) => opts[names[key]!]),
      ...readValues(definition.args ?? {}, (key) => this.processedArgs[args.findIndex(([name]) => name === key)]),
    };
    choose((ctx) => definition.run(values, ctx, meta), this.optsWithGlobals());
  });
}

/** Add option specs to a command; returns each spec's key → commander's attribute name. */
function addOptions(
  command: Command,
  specs: Record<string, OptionSpec<unknown>>,
  commander: Pick<Commander, 'Option' | 'Argument'>,
): Record<string, string> {
  const names: Record<string, string> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const option = spec.create(commander);
    command.addOption(option);
    names[key] = option.attributeName();
  }
  return names;
}
