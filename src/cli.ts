import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliIo, GlobalOptions, RunContext } from './context.js';
import { ExitCode, UsageError, isSmileCliError } from './errors.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type Handler = (ctx: RunContext) => Promise<number>;
type Commander = typeof import('commander');

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
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.ok;
  }
  const commander = await import('commander');
  // The thresholds belong in `smile selfie check --help`; only selfie runs load the rules for them.
  const selfieHelp = argv.includes('selfie') ? (await import('./selfie/rules.js')).SELFIE_THRESHOLDS_HELP : '';
  const { signal, dispose } = interruptSignal(io.signal);
  let handler: { run: Handler; globals: GlobalOptions } | undefined;
  const program = buildProgram(io, (run, command) => {
    handler = { run, globals: globalsOf(command) };
  }, commander, selfieHelp);
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    dispose();
    if (error instanceof commander.CommanderError && (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help')) return ExitCode.ok;
    // Parse-time failures (commander's own, or a typed error from an option parser such as
    // --concurrency abc) get the same rendering as any other error: message, hint, exit code.
    const { Output } = await import('./output/output.js');
    const out = new Output(io, { json: wantsJson, quiet: false, color: false });
    const shown = error instanceof commander.CommanderError ? new UsageError(capitalise(error.message.replace(/^error:\s*/i, '')), { hint: 'See `smile --help` or `smile <command> --help`.' }) : error;
    out.error(shown, { debug: argv.includes('--debug') });
    return isSmileCliError(shown) ? shown.exitCode : ExitCode.bug;
  }
  if (!handler) {
    dispose();
    return ExitCode.ok;
  }
  // Loaded only now, so that `--version` and `--help` never pay for them.
  const [{ createContext }, { cleanupErrorBoundary }] = await Promise.all([import('./context.js'), import('./boundary.js')]);
  const context = createContext(io, handler.globals, signal);
  try {
    return await cleanupErrorBoundary(context, () => handler!.run(context));
  } finally {
    dispose();
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Ctrl-C / SIGTERM abort the run once (commands clean up and exit 130); a second Ctrl-C exits at once. */
function interruptSignal(given: AbortSignal | undefined): { signal: AbortSignal; dispose: () => void } {
  if (given) return { signal: given, dispose: () => undefined };
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
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

function globalsOf(command: Command): GlobalOptions {
  const all = command.optsWithGlobals<Record<string, unknown>>();
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    ...(text(all['profile']) ? { profile: text(all['profile'])! } : {}),
    ...(text(all['env']) ? { env: text(all['env'])! } : {}),
    ...(text(all['baseUrl']) ? { baseUrl: text(all['baseUrl'])! } : {}),
    json: all['json'] === true,
    quiet: all['quiet'] === true,
    input: all['input'] !== false,
    debug: all['debug'] === true,
    yes: all['yes'] === true,
    emulator: all['emulator'] === true,
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const integer = (flag: string) => (value: string) => {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} takes a whole number, not "${value}".`);
  return Number(value);
};
const number = (flag: string) => (value: string) => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`${flag} takes a number, not "${value}".`);
  return parsed;
};

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

export function buildProgram(io: CliIo, select: (run: Handler, command: Command) => void, { Command, Option }: Pick<Commander, 'Command' | 'Option'>, selfieHelp = ''): Command {
  const program = new Command('smile');
  program
    .description('Register (enroll) people with Smile ID SmartSelfie™ Authentication.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--profile <name>', 'config profile to use (env SMILE_PROFILE)')
    .addOption(new Option('--env <environment>', 'sandbox or production (env SMILE_ENV)').choices(['sandbox', 'production']))
    .option('--base-url <url>', 'v1 API base including /v1 (env SMILE_BASE_URL)')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--quiet', 'no progress or info lines on stderr')
    .option('--no-input', 'never prompt; fail with the flag to pass instead (env SMILE_NO_INPUT)')
    .option('--debug', 'trace HTTP requests on stderr (key, signatures and images redacted)')
    .option('--yes', 'answer yes to confirmations (production bulk)')
    .option('--emulator', 'run against an in-process Smile ID emulator: no account needed')
    .showSuggestionAfterError(true)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    })
    .addHelpText('after', examples([
      'npx smile register --emulator --user-id demo-1 --selfie fixtures/selfies/demo.jpg',
      'smile profile add sandbox --partner-id 085 --env sandbox',
      'smile register --user-id u-1 --selfie face.jpg --json',
      'smile status --user-id u-1 --job-id job-… --wait',
      'smile selfie check photos/*.jpg',
    ]));

  const action = <T>(load: (opts: T, ctx: RunContext, args: string[]) => Promise<number>) =>
    function (this: Command, ...args: unknown[]) {
      const command = args[args.length - 1] as Command;
      const opts = command.opts<T & object>();
      const positional = args.slice(0, -2).flat().filter((item): item is string => typeof item === 'string');
      select((ctx) => load(opts, ctx, positional), command);
    };

  program
    .command('register')
    .description('register one person: check selfie → upload → wait for the result')
    .option('--user-id <id>', 'the user to register (required)')
    .option('--selfie <file>', 'selfie image (required unless --use-enrolled-image)')
    .option('--liveness <files...>', 'liveness frames (optional)')
    .option('--job-id <id>', 'job id (default: a fresh job-<uuid>); an existing one is refused (2215): `smile status` shows its result')
    .option('--param <key=value>', 'extra partner param, repeatable (string values)', collect)
    .option('--callback-url <url>', 'where Smile ID POSTs the result (https in production)')
    .option('--allow-re-enroll', 'replace the selfie of an already registered user (allow_new_enroll)')
    .option('--use-enrolled-image', 'use the selfie already on file instead of --selfie')
    .option('--geo <lat,lon[,alt]>', 'capture location, decimal degrees (altitude in metres)')
    .addOption(new Option('--sandbox-result <result>', 'force the sandbox outcome (sandbox/emulator only)').choices(['approve', 'reject', 'provisional']))
    .option('--timeout <duration>', 'one deadline for the whole command: submit, upload and wait together (from the first request, after the selfie checks); every attempt and retry fits inside it', '120s')
    .option('--no-wait', 'submit and exit without waiting (outcome "submitted")')
    .addOption(new Option('--expect <outcome>', 'exit 7 unless the outcome is this (CI smoke tests)').choices(['approved', 'rejected', 'provisional', 'pending', 'submitted', 'error']))
    .addHelpText('after', examples([
      'smile register --user-id u-1 --selfie face.jpg',
      'smile register --user-id u-1 --selfie face.jpg --liveness f1.jpg f2.jpg f3.jpg --geo -1.29,36.82',
      'smile register --user-id u-1 --selfie new.jpg --allow-re-enroll --param branch=nairobi',
      'smile register --emulator --user-id ci-1 --selfie face.jpg --sandbox-result reject --expect rejected --json',
    ]) + '\nThe job id is printed on stderr as soon as it exists; `smile status` resumes an interrupted wait.\nExit codes: 0 approved/submitted · 4 selfie failed checks · 5 API/network failure, or --timeout ran out before the upload landed · 6 rejected/refused · 7 --expect mismatch · 8 pending/provisional, or --timeout ran out while waiting (see `smile help exit-codes`).\nAnswers are checked before they are believed: job_status must be signed with your key within ±15 min of this machine\'s clock; no request follows a redirect; bodies are capped (job_status 4 MiB, prep upload and the zip PUT\'s answer 64 KiB); fields must have their documented types (exit 3 for a signature, 5 otherwise).\n')
    .action(action(async (opts, ctx) => (await import("./commands/register.js")).runRegister(opts as never, ctx)));

  program
    .command('status')
    .description("print a job's status once, or --wait until it is final")
    .requiredOption('--user-id <id>', 'the user of the job')
    .requiredOption('--job-id <id>', 'the job id printed by register')
    .option('--wait', 'poll until the result is final')
    .option('--timeout <duration>', 'one deadline for the whole command (with --wait: all the polling); every attempt and retry fits inside it', '120s')
    .option('--history', 'include the user\'s past results')
    .option('--image-links', 'include links to the stored images')
    .addOption(new Option('--expect <outcome>', 'exit 7 unless the outcome is this').choices(['approved', 'rejected', 'provisional', 'pending', 'submitted', 'error']))
    .addHelpText('after', examples(['smile status --user-id u-1 --job-id job-1234 --wait', 'smile status --user-id u-1 --job-id job-1234 --history --json']) + '\nAnswers are checked before they are believed: job_status must be signed with your key within ±15 min of this machine\'s clock; no request follows a redirect; bodies are capped (job_status 4 MiB, prep upload and the zip PUT\'s answer 64 KiB); fields must have their documented types (exit 3 for a signature, 5 otherwise).\n')
    .action(action(async (opts, ctx) => (await import('./commands/status.js')).runStatus(opts as never, ctx)));

  program
    .command('bulk')
    .description('register many people from CSV or JSONL: concurrency, retries, journal, resume, report')
    .argument('<file>', 'CSV (with a header) or JSONL file, or - for stdin')
    .addOption(new Option('--format <format>', 'input format (default: by extension)').choices(['csv', 'jsonl']))
    .option('--concurrency <n>', 'registrations in flight at once', integer('--concurrency'), 4)
    .option('--rate <n>', 'requests per second, shared by all workers', number('--rate'))
    .option('--max-attempts <n>', 'attempts per request for retryable failures', integer('--max-attempts'), 5)
    .option('--journal <path>', 'journal file (default FILE.smile-journal.jsonl)')
    .option('--resume', 'finish a run from its journal: every row exactly once')
    .addOption(new Option('--if-enrolled <action>', 'when a user is already registered (2209)').choices(['fail', 'skip', 'replace']).default('fail'))
    .option('--no-wait', 'only submit; results arrive at the callback URL')
    .option('--timeout <duration>', 'how long to wait for each result', '120s')
    .option('--report <path>', 'one line per input row with its outcome (.csv or .jsonl)')
    .option('--rejects <path>', 'failed rows in the input format plus a reason column, ready to re-run')
    .option('--dry-run', 'check every row and selfie, print the plan, send nothing')
    .option('--shard <k/n>', 'only rows whose user_id hashes to shard K of N (1-based)')
    .addHelpText('after', examples([
      'smile bulk users.csv --report report.csv --rejects rejects.csv',
      'smile bulk users.csv --resume',
      'smile bulk users.jsonl --concurrency 16 --rate 20 --if-enrolled skip --json',
      'cat users.csv | smile bulk - --format csv --dry-run',
      'smile bulk users.csv --shard 2/4   # on machine 2 of 4',
    ]) + '\nColumns: user_id (required), selfie, job_id, liveness (paths separated by ;), callback_url, allow_re_enroll,\nuse_enrolled_image, latitude, longitude, altitude, sandbox_result, param.<key>. Paths are relative to the input file.\nExit codes: 0 all done · 4 input unusable · 5 some rows need a re-run · 6 some rows failed for good · 130 interrupted.\n')
    .action(action(async (opts, ctx, [file]) => (await import('./commands/bulk.js')).runBulk(file!, opts as never, ctx)));

  const selfie = program.command('selfie').description('check or prepare selfie files (nothing is sent)');
  selfie
    .command('check')
    .description('check selfie files with sharp; exit 4 if any has an error')
    .argument('<files...>', 'image files')
    .option('--liveness', 'check as liveness frames (smaller size limits)')
    .addHelpText('after', () => `${examples(['smile selfie check face.jpg', 'smile selfie check photos/*.jpg --json'])}\n${selfieHelp}`)
    .action(action<{ liveness?: boolean }>(async (opts, ctx, files) => {
      const { runSelfieCheck } = await import('./selfie/commands.js');
      return runSelfieCheck(files, { json: ctx.globals.json, color: ctx.out.color, kind: opts.liveness ? 'liveness' : 'selfie' }, ctx.io);
    }));
  selfie
    .command('prepare')
    .description('write the normalised JPEG that register would send')
    .argument('<in>', 'input image')
    .argument('<out>', 'output JPEG')
    .option('--liveness', 'prepare as a liveness frame (long side ≤ 640)')
    .addHelpText('after', examples(['smile selfie prepare IMG_0042.HEIC.jpg out.jpg --json']))
    .action(action<{ liveness?: boolean }>(async (opts, ctx, [input, output]) => {
      const { runSelfiePrepare } = await import('./selfie/commands.js');
      return runSelfiePrepare(input!, output!, { json: ctx.globals.json, kind: opts.liveness ? 'liveness' : 'selfie' }, ctx.io);
    }));

  const profile = program.command('profile').description('config profiles: partner id, environment, base URL, default callback');
  profile
    .command('add')
    .description('add (or with --force replace) a profile; asks for the API key without echo')
    .argument('<name>', 'profile name')
    .requiredOption('--partner-id <id>', 'your Smile ID partner id (kept as typed, e.g. 085)')
    .option('--callback-url <url>', 'default callback URL for this profile')
    .option('--api-key-file <path>', 'read the API key from a file, or - for stdin')
    .option('--force', 'replace an existing profile')
    .option('--no-use', 'do not make it the current profile')
    .addHelpText('after', examples(['smile profile add sandbox --partner-id 085 --env sandbox', 'smile profile add prod --partner-id 085 --env production --api-key-file ~/smile-prod.key', 'pass show smile/sandbox | smile profile add ci --partner-id 085 --env sandbox --api-key-file -']) + '\nThere is no flag that takes the key itself: it would land in shell history and `ps`.\n')
    .action(action(async (opts, ctx, [name]) => (await import('./commands/profile.js')).runProfileAdd(name!, opts as never, ctx)));
  profile
    .command('list')
    .description('list profiles')
    .addHelpText('after', examples(['smile profile list', 'smile profile list --json']))
    .action(action(async (_opts, ctx) => (await import('./commands/profile.js')).runProfileList(ctx)));
  profile
    .command('use')
    .description('make a profile the current one')
    .argument('<name>')
    .addHelpText('after', examples(['smile profile use prod']))
    .action(action(async (_opts, ctx, [name]) => (await import('./commands/profile.js')).runProfileUse(name!, ctx)));
  profile
    .command('show')
    .description('show a profile (the key masked) and where each setting comes from')
    .argument('[name]')
    .addHelpText('after', examples(['smile profile show', 'smile profile show prod --json']))
    .action(action(async (_opts, ctx, [name]) => (await import('./commands/profile.js')).runProfileShow(name, ctx)));
  profile
    .command('remove')
    .description('remove a profile and its key')
    .argument('<name>')
    .addHelpText('after', examples(['smile profile remove old-sandbox']))
    .action(action(async (_opts, ctx, [name]) => (await import('./commands/profile.js')).runProfileRemove(name!, ctx)));

  program
    .command('emulator')
    .description('run a local Smile ID-compatible server (v1 flow, callbacks, faults)')
    .option('--port <n>', 'port (0 = any free port)', integer('--port'), 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--partner-id <id>', 'partner id the emulator accepts')
    .option('--api-key <key>', "the emulator's own throwaway key (not a Smile ID key)")
    .option('--processing-ms <ms>', 'how long a job takes', integer('--processing-ms'))
    .option('--tls', 'serve https with a self-signed certificate (path printed)')
    .option('--state-file <path>', 'keep users and jobs in this append-only log (compacted as it grows; selfies in PATH.selfies/), saved before each answer')
    .option('--fault-rate <rate>', 'share of requests answered 500 (0..1)', number('--fault-rate'))
    .option('--drop-rate <rate>', 'share of connections dropped (0..1)', number('--drop-rate'))
    .option('--rate-limit-rate <rate>', 'share of requests answered 429 (0..1)', number('--rate-limit-rate'))
    .option('--retry-after <seconds>', 'Retry-After of those 429s', integer('--retry-after'))
    .option('--latency <ms>', 'added latency per request', integer('--latency'))
    .option('--clock-skew-ms <ms>', 'skew the Date header and timestamps (doctor tests)', number('--clock-skew-ms'))
    .addHelpText('after', examples(['smile emulator --port 8080', 'smile emulator --tls --json', 'smile emulator --fault-rate 0.1 --rate-limit-rate 0.05 --retry-after 1']))
    .action(action<Record<string, unknown>>(async (opts, ctx) => {
      const { runEmulatorCommand } = await import('./emulator/cli.js');
      return runEmulatorCommand({ ...(opts as object), json: ctx.globals.json, latencyMs: opts['latency'] as number | undefined }, { stdout: ctx.io.stdout, stderr: ctx.io.stderr, signal: ctx.signal });
    }));

  program
    .command('explain')
    .description('what a Smile ID result or error code means and what to do')
    .argument('<code>', 'e.g. 2209, 0810, 429')
    .addHelpText('after', examples(['smile explain 2205', 'smile explain 0814 --json']))
    .action(action(async (_opts, ctx, [code]) => (await import('./commands/explain.js')).runExplain(code!, ctx)));

  program
    .command('doctor')
    .description('check profile, credentials, reachability, clock skew and a signed round trip')
    .addHelpText('after', examples(['smile doctor', 'smile doctor --profile prod --json', 'smile doctor --emulator']) + `\nOne line per check (✓ ok · ! worth fixing · ✗ blocks use · – skipped) with the fix. The clock may be off by at most 60 s\nagainst the server's Date header. The round trip asks job_status for a job that does not exist, signed with your key.\nExit codes: 0 usable · 3 something blocks use.\n`)
    .action(action(async (_opts, ctx) => (await import('./commands/doctor.js')).runDoctor(ctx)));

  const callback = program.command('callback').description("Smile ID's result callbacks: verify a body, or run a ready endpoint");
  callback
    .command('verify')
    .description("verify a callback body's signature with your key and print its outcome (no network)")
    .argument('<file>', 'the JSON body Smile ID POSTed, or - for stdin')
    .option('--max-age <duration>', 'refuse a body signed longer ago than this (default 1h; a saved body checked later: e.g. 30d)')
    .addHelpText('after', examples(['smile callback verify body.json', 'pbpaste | smile callback verify - --json', 'smile callback verify saved-in-march.json --max-age 30d']) + '\nThe body is the result object plus timestamp and signature; the signature is checked with the profile\'s key (flag > env > profile).\nThe signature covers only the timestamp, so its age is checked too: signed more than --max-age ago (default 1h) or more\nthan 15 min in the future is refused. Durations: 500ms, 90s, 45m, 24h, 30d.\nExit codes: 0 approved · 3 bad, missing, too old or future signature (nothing shown as a result) · 4 not a JSON object · 6 rejected · 8 provisional.\n')
    .action(action(async (opts, ctx, [file]) => (await import('./commands/callback.js')).runCallbackVerify(file!, ctx, opts as never)));
  callback
    .command('listen')
    .description('a ready callback endpoint: verify each POST, append results to JSONL, print, forward')
    .requiredOption('--port <n>', 'port to listen on (0 = any free port, printed)', integer('--port'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--out <path>', 'append verified results here, one JSON line each (flushed before answering)')
    .option('--forward <url>', 'POST each verified body on to this URL (best effort, retried)')
    .option('--max-age <duration>', 'refuse callbacks signed longer ago than this (default 1h)')
    .addHelpText('after', examples(['smile callback listen --port 8080 --out results.jsonl', 'smile callback listen --port 8080 --host 0.0.0.0 --forward http://app.internal/smile --json']) + '\nRun it behind your HTTPS ingress or tunnel: Smile ID needs an https URL in production. Answers 200 once a verified\nresult is whole on disk (flushed), 401 for a bad signature or one signed more than --max-age ago (default 1h) or more\nthan 15 min in the future, 400 for a body that is not JSON, 413 over 2 MB, 503 (Retry-After) when the result cannot\nbe written. The machine result and a later human-review result of the same job are both kept; a repeated delivery of\nthe same signed body is answered 200 and stored once. A full disk is waited out (503 until there is room); a file\nthat cannot be written any more stops the listener. Stop with Ctrl-C.\nExit codes: 0 stopped · 2 port in use · 3 no key · 4 --out cannot be opened · 5 --out cannot be written any more.\n')
    .action(action(async (opts, ctx) => (await import('./commands/callback.js')).runCallbackListen(opts as never, ctx)));

  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', examples(['source <(smile completion bash)    # in ~/.bashrc', 'source <(smile completion zsh)     # in ~/.zshrc', 'smile completion fish > ~/.config/fish/completions/smile.fish']))
    .action(action(async (_opts, ctx, [shell]) => {
      const { completionScript } = await import('./commands/completion.js');
      ctx.io.stdout.write(completionScript(shell!, program));
      return 0;
    }));

  program.helpCommand(false);
  program
    .command('help')
    .description('help for a command, or a topic: exit-codes, environment')
    .argument('[topic...]', 'a command name or exit-codes | environment')
    .action(action(async (_opts, ctx, words) => {
      const { HELP_TOPICS } = await import('./commands/help-topics.js');
      const topic = HELP_TOPICS[words.join(' ')];
      if (topic !== undefined) {
        ctx.io.stdout.write(topic);
        return 0;
      }
      let target: Command | undefined = program;
      for (const word of words) target = target?.commands.find((sub) => sub.name() === word);
      if (!target) throw new UsageError(`No help for "${words.join(' ')}".`, { hint: `Topics: ${Object.keys(HELP_TOPICS).join(', ')}; or a command name (smile --help lists them).` });
      // outputHelp (not helpInformation): the examples added with addHelpText belong to the help too.
      target.outputHelp();
      return 0;
    }));

  return program;
}


