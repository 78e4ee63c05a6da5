import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline/promises';
import type { RunContext, SmileConnection } from '../context.js';
import type { Environment } from '../config/validate.js';
import {
  CancelledError,
  DeclinedError,
  ExitCode,
  InputError,
  SmileCliError,
  UsageError,
  isSmileCliError,
} from '../errors.js';
import { loadImages } from '../register/pipeline.js';
import type { RegistrationDeps } from '../register/pipeline.js';
import { stateDir } from '../config/paths.js';
import { writeFailureReason } from '../fs/durable.js';
import { acquireFileLock } from '../fs/lock.js';
import { shellQuote } from '../output/shell.js';
import { newJobId } from '../parse.js';
import { openBulkInput, prescanInput, readInputRecords, recordUserId, validateRecord } from './input.js';
import type { BulkInput, BulkRow, InputRecord, PrescanResult, RowProblem, ValidateContext } from './input.js';
import {
  JOURNAL_VERSION,
  JournalWriter,
  defaultJournalPath,
  journalExists,
  journalMismatch,
  readFinalDocument,
  readJournal,
  stdinJournalPath,
} from './journal.js';
import type { JournalEntry, JournalState } from './journal.js';
import { RequestGate } from './limiter.js';
import { RateMeter, snapshotOf } from './progress.js';
import type { RunFigures } from './progress.js';
import { failedRow, requestForRow } from './register-row.js';
import type { RowOptions } from './register-row.js';
import { RejectsWriter, ReportWriter, reportFormatOf } from './report.js';
import { rowDocument } from './row-result.js';
import type { RowResult } from './row-result.js';
import { BulkScheduler, Semaphore } from './scheduler.js';
import { SeenUserIds } from './seen.js';
import { formatShard, inShard } from './shard.js';
import { BulkTally, bulkExitCode, planDocument, planText, renderSummary, rowLine, summaryDocument } from './summary.js';
import type { FinishedRun } from './summary.js';
import type { BulkValues } from './values.js';
import type { BulkHtmlReport } from '../report/bulk-html.js';
import { openBulkHtml, thumbnailsAllowed, writeHtmlReport } from '../report/bulk-html.js';

/**
 * `smile bulk FILE|-`: many registrations from CSV or JSONL, with a journal that makes a crash
 * resumable (every row exactly once), a shared rate limit and 429 pause, decoupled submission
 * and waiting, a report and a rejects file. Returns product.md's bulk exit code.
 *
 * The steps, in order: open the input (checked and fingerprinted before anything is created or
 * sent) and find its journal; take the journal's lock (not for --dry-run); decide what the
 * existing journal means for this run; connect; open the journal, report and rejects; send the
 * rows (or, with --dry-run, check them); print the summary and return the exit code.
 */
export async function runBulk(values: BulkValues, ctx: RunContext): Promise<number> {
  const started = performance.now();
  if (values.report) reportFormatOf(values.report, '--report');
  const opened = await openRunInput(values, ctx);
  if (values.dryRun) return executeBulk(values, ctx, opened, started);
  return withJournalLock(values, ctx, opened, () => executeBulk(values, ctx, opened, started));
}

/** The input of a run, checked and fingerprinted, and where its journal is. */
interface OpenedInput {
  input: BulkInput;
  prescan: PrescanResult;
  /** `--shard` as `K/N`; null for the whole input. */
  shardText: string | null;
  journalPath: string;
  /** The command that finishes this run, for the messages and the summary that need it. */
  resumeCommand: string;
}

async function openRunInput(values: BulkValues, ctx: RunContext): Promise<OpenedInput> {
  const shardText = values.shard ? formatShard(values.shard) : null;
  // The input: checked (header, user_id column) and fingerprinted before anything is created or sent.
  const input = await openBulkInput(values.file, values.format, ctx.io.stdin);
  const prescan = await prescanInput(input, values.shard);
  await checkDistinctPaths([
    ['the input', input.path],
    ['--report', values.report],
    ['--rejects', values.rejects],
    ['--journal', values.journal],
    ['--html', values.html],
  ]);
  if (prescan.allRows === 0)
    throw new InputError(`${input.display} has no rows${input.format === 'csv' ? ' under its header' : ''}.`, {
      code: 'no_rows',
      hint: 'Add one line per person to register (user_id, selfie, …).',
    });
  // The journal: --journal, else beside the input file, else (stdin) in the state directory under
  // a name made from the piped bytes, so the same pipe finds it again with --resume.
  const journalPath = values.journal
    ? resolve(values.journal)
    : input.path
      ? defaultJournalPath(input.path, shardText ?? undefined)
      : stdinJournalPath(join(stateDir(ctx.env), 'bulk-journals'), prescan.fingerprint, shardText ?? undefined);
  return { input, prescan, shardText, journalPath, resumeCommand: resumeCommandOf(input, values, shardText) };
}

/**
 * The input, report, rejects and journal must be four different files: writing a report over the
 * input (`smile bulk rejects.csv --rejects rejects.csv`) would empty it while it is still being read.
 */
async function checkDistinctPaths(paths: [string, string | undefined][]): Promise<void> {
  const seen = new Map<string, string>();
  for (const [label, path] of paths) {
    if (path === undefined || path === '-') continue;
    const absolute = resolve(path);
    // realpath of the file, or of its directory for a file not written yet (symlinks, ../ tricks).
    const real = await realpath(absolute).catch(async () =>
      join(await realpath(dirname(absolute)).catch(() => dirname(absolute)), basename(absolute)),
    );
    const other = seen.get(real);
    if (other)
      throw new UsageError(`${label} and ${other} are the same file (${path}).`, {
        hint: 'Write the report, rejects and journal to files of their own: the input is read while they are written.',
      });
    seen.set(real, label);
  }
}

/**
 * The command that finishes this run: the same input (a pipe: `… | smile bulk -`), journal,
 * shard, format, report and rejects, with --resume. Printed in every summary that needs it.
 */
function resumeCommandOf(input: BulkInput, values: BulkValues, shardText: string | null): string {
  const words = ['smile', 'bulk', input.path ? shellQuote(input.display) : '-', '--resume'];
  if (values.journal) words.push('--journal', shellQuote(values.journal));
  if (shardText) words.push('--shard', shardText);
  if (values.format) words.push('--format', values.format);
  if (values.report) words.push('--report', shellQuote(values.report));
  if (values.rejects) words.push('--rejects', shellQuote(values.rejects));
  if (values.html)
    words.push('--html', shellQuote(values.html), ...(values.htmlThumbnails ? ['--html-thumbnails'] : []));
  return `${input.path ? '' : '… | '}${words.join(' ')}`;
}

/** One run per journal: the lock is held from before the journal is read until the run is over. */
async function withJournalLock(
  values: BulkValues,
  ctx: RunContext,
  opened: OpenedInput,
  work: () => Promise<number>,
): Promise<number> {
  const { input, journalPath } = opened;
  if (!input.path && !values.journal) {
    try {
      await mkdir(dirname(journalPath), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new SmileCliError(
        `The directory for the journal of rows from stdin, ${dirname(journalPath)}, cannot be created: ${writeFailureReason(error)}.`,
        ExitCode.api,
        'journal_write',
        {
          hint: 'Set SMILE_CONFIG_DIR to a writable directory, or pass --journal PATH.',
          cause: error,
        },
      );
    }
  }
  const lock = await acquireFileLock(journalPath, {
    onStale: (owner, lockPath) =>
      ctx.out.warn(
        `Taking over the stale lock ${lockPath}: its run (pid ${owner.pid} on ${owner.host}, started ${owner.started_at}) is no longer running.`,
      ),
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** A run once its input and journal are known (and, unless --dry-run, its lock is held). */
async function executeBulk(values: BulkValues, ctx: RunContext, opened: OpenedInput, started: number): Promise<number> {
  // One signal for the run's many waits (workers, pools, sleeping retries): thousands of listeners is expected.
  const runSignal = AbortSignal.any([ctx.signal]);
  setMaxListeners(0, runSignal);

  const journalState = await existingJournal(values, opened);
  const link = await connectForRun(values, ctx);
  await confirmRun(values, ctx, opened, link);
  const thumbnails = values.htmlThumbnails && (await thumbnailsAllowed(values, ctx, link));
  const files = await openRunFiles(values, ctx, opened, journalState, { link, thumbnails });

  const progress = new RunProgress(ctx, files);
  const rowOptions: RowOptions = {
    wait: values.wait,
    timeoutMs: values.timeout.ms,
    ifEnrolled: values.ifEnrolled,
    callbackUrl: link.connection?.callbackUrl,
  };
  const { loadSelfieForUpload } = await import('../selfie/check.js');
  const loadSelfie = sharedSelfiePool(
    (path, load) => loadSelfieForUpload(path, { ...load, skipFaceCheck: values.skipFaceCheck }),
    runSignal,
  );
  const scheduler =
    link.connection && !values.dryRun
      ? new BulkScheduler(
          // --max-attempts 1 means no retries at all: no recovery rounds either.
          {
            ...rowOptions,
            concurrency: values.concurrency,
            ...(values.maxAttempts === 1 ? { recoveryRounds: 0 } : {}),
          },
          {
            client: link.connection.client,
            environment: link.connection.environment,
            signal: runSignal,
            loadSelfie,
            journal: files.journal!,
            newJobId,
            onResult: progress.emit,
          },
        )
      : undefined;
  if (ctx.animate) {
    await progress.showDashboard(started, () => ({
      total: Number.isNaN(opened.prescan.rows) ? undefined : opened.prescan.rows,
      submitting: scheduler?.submitting ?? 0,
      waiting: scheduler?.waiting ?? 0,
      paused: link.gate.pausedUntil > Date.now(),
      retries: link.retries,
      rateLimitPauses: link.gate.pauses,
      environment: link.environmentLabel,
      dryRun: values.dryRun,
    }));
  }

  const rows: RowsRun = {
    ctx,
    shard: values.shard,
    concurrency: values.concurrency,
    validate: { baseDir: opened.input.baseDir, environment: link.environment, seen: new SeenUserIds() },
    journalState,
    journalPath: opened.journalPath,
    environment: link.environment,
    rowOptions,
    loadSelfie,
    signal: runSignal,
    emit: progress.emit,
  };
  let end: RowsEnd = { interrupted: false, fatal: undefined };
  let closeError: unknown;
  try {
    end = scheduler ? await sendRows(files.records, rows, scheduler) : await checkRows(files.records, rows);
  } finally {
    progress.stop();
    await files.journal?.close();
    // Flushed and fsynced here; a report or rejects file that cannot be written fails the run.
    closeError = closeOutputFiles(files);
  }
  const fatal = end.fatal ?? closeError ?? scheduler?.fatal;
  const interrupted = end.interrupted || (ctx.signal.aborted && fatal === undefined);
  if (fatal !== undefined && !isSmileCliError(fatal)) {
    files.html?.discard();
    // A bug: the boundary says how to report it; the journal still lets the run finish.
    if (!ctx.globals.json)
      ctx.out.stderr(
        `${progress.tally.done} row(s) finished before the run stopped${files.journal ? `; the journal ${files.journal.path} knows every step: finish with ${opened.resumeCommand}` : ''}.\n`,
      );
    throw fatal;
  }
  const runOf = (stopped: SmileCliError | undefined) =>
    finishedRunOf(progress.tally, {
      values,
      opened,
      files,
      link,
      started,
      stopped,
      interrupted,
      inFlight: scheduler?.interrupted ?? 0,
    });
  let finished = runOf(isSmileCliError(fatal) ? fatal : undefined);
  // The HTML page is written from the finished run; a page that cannot be written stops the run (exit 5).
  const htmlError = await writeHtmlReport(files.html, progress.tally, finished, {
    partnerId: link.connection?.partnerId ?? null,
    startedAt: Date.now() - (performance.now() - started),
  });
  if (htmlError && !finished.stopped) finished = runOf(htmlError);
  printSummary(ctx, progress.tally, finished, values, {
    environmentLabel: link.environmentLabel,
    journalPath: opened.journalPath,
  });
  return finished.exitCode;
}

/**
 * Where every finished row goes, once: the tally, the rate meter, the screen (the dashboard on a
 * TTY, else one plain line per row), the report and the rejects file.
 */
class RunProgress {
  readonly tally = new BulkTally();
  readonly #meter = new RateMeter();
  readonly #ctx: RunContext;
  readonly #files: RunFiles;
  #dashboard: { stop(): void } | undefined;

  constructor(ctx: RunContext, files: RunFiles) {
    this.#ctx = ctx;
    this.#files = files;
  }

  readonly emit = (result: RowResult): void => {
    this.tally.add(result);
    if (!result.fromJournal) this.#meter.mark(Date.now());
    if (!this.#dashboard) this.#ctx.out.info(rowLine(result));
    this.#files.report?.write(result);
    this.#files.rejects?.write(result);
    this.#files.html?.add(result);
  };

  /** The ink dashboard on stderr (a TTY), drawn from the tally and the run's live figures. */
  async showDashboard(started: number, live: () => Omit<RunFigures, 'elapsedMs' | 'rate'>): Promise<void> {
    const snapshot = () => {
      const elapsedMs = performance.now() - started;
      return snapshotOf(this.tally, {
        ...live(),
        elapsedMs,
        rate: this.#meter.rate(Date.now(), Date.now() - elapsedMs),
      });
    };
    this.#dashboard = (await import('../ui/bulk-dashboard.js')).mountBulkDashboard(snapshot, this.#ctx.io.stderr);
  }

  stop(): void {
    this.#dashboard?.stop();
  }
}

/** The run as the summary tells it, with product.md's exit code. */
function finishedRunOf(
  tally: BulkTally,
  run: {
    values: BulkValues;
    opened: OpenedInput;
    files: RunFiles;
    link: RunLink;
    started: number;
    stopped: SmileCliError | undefined;
    interrupted: boolean;
    inFlight: number;
  },
): FinishedRun {
  const { values, opened, files, link, stopped, interrupted } = run;
  const rowsInInput = Number.isNaN(opened.prescan.rows) ? null : opened.prescan.rows;
  return {
    exitCode: exitCodeOf(tally, {
      stopped,
      interrupted,
      dryRun: values.dryRun,
      sharded: values.shard !== undefined,
      rowsInInput: rowsInInput ?? tally.done,
    }),
    interrupted: interrupted && !stopped,
    stopped: stopped ? { code: stopped.code, message: stopped.message, hint: stopped.hint } : undefined,
    resumeCommand: files.journal ? opened.resumeCommand : null,
    inFlightAtInterrupt: run.inFlight,
    dryRun: values.dryRun,
    wait: values.wait,
    environment: link.environmentLabel,
    input: opened.input.display,
    shard: opened.shardText,
    rowsInInput,
    journal: files.journal?.path ?? null,
    report: files.report?.path ?? null,
    rejects: files.rejects?.path ?? null,
    rejectsWritten: files.rejects?.count ?? 0,
    html: files.html?.path ?? null,
    elapsedMs: performance.now() - run.started,
    requests: { retries: link.retries, rateLimitPauses: link.gate.pauses },
    unknownColumns: files.unknownColumns,
  };
}

/**
 * What an existing journal means for this run: with --resume, the state to go on from (it must
 * be this input's); without, a refusal (a run that is not finished is finished with --resume,
 * never started again). `--resume` without a journal is refused too. --dry-run only reads it.
 */
async function existingJournal(values: BulkValues, opened: OpenedInput): Promise<JournalState | undefined> {
  const { input, prescan, shardText, journalPath, resumeCommand } = opened;
  if (!(await journalExists(journalPath))) {
    if (values.resume && !values.dryRun) {
      throw new UsageError(`--resume: there is no journal at ${journalPath}.`, {
        code: 'journal_missing',
        hint:
          input.path || values.journal
            ? 'Run without --resume to start, or pass --journal PATH where the earlier run kept it.'
            : 'Rows from stdin find their journal by their first 64 KiB: pipe exactly the same rows, or pass --journal PATH.',
      });
    }
    return undefined;
  }
  if (!values.resume && !values.dryRun) {
    const state = await readJournal(journalPath).catch(() => undefined);
    const mismatch = state ? journalMismatch(state.header, prescan.fingerprint, shardText) : 'it cannot be read';
    if (mismatch)
      throw new UsageError(`The journal ${journalPath} exists and is not this input's (${mismatch}).`, {
        code: 'journal_exists',
        hint: "Pass --journal PATH to keep this run's journal elsewhere, or move the old journal aside.",
      });
    const done = [...state!.entries.values()].filter((entry) => entry.final?.done).length;
    throw new UsageError(
      `A journal of this input already exists: ${journalPath} (${done} row${done === 1 ? '' : 's'} finished).`,
      {
        code: 'journal_exists',
        hint: `Finish that run (every row exactly once) with: ${resumeCommand}${input.path ? '' : ' (the same rows on stdin)'}. Or pass --journal NEW to start a separate run.`,
      },
    );
  }
  if (!values.resume) return undefined;
  const state = await readJournal(journalPath);
  const mismatch = journalMismatch(state.header, prescan.fingerprint, shardText);
  if (mismatch)
    throw new UsageError(`--resume: the journal ${journalPath} does not belong to this input: ${mismatch}.`, {
      code: 'journal_mismatch',
      hint: 'Resume needs the same file (and --shard) the run started with; to re-run failed rows use the --rejects file as a new input.',
    });
  return state;
}

/** The connection of a run; every request passes the shared gate (rate limit, one 429 pause for all). */
interface RunLink {
  /** Undefined only for a --dry-run that could not connect (it checks the rows without). */
  connection: SmileConnection | undefined;
  environment: Environment | undefined;
  /** The environment as the progress and the summary name it (`emulator` for the in-process one). */
  environmentLabel: string;
  gate: RequestGate;
  /** Request retries so far, all rows together. */
  readonly retries: number;
}

async function connectForRun(values: BulkValues, ctx: RunContext): Promise<RunLink> {
  const gate = new RequestGate({ rate: values.rate });
  const counts = { retries: 0 };
  let connection: SmileConnection | undefined;
  let connectProblem: string | undefined;
  try {
    connection = await ctx.connect({
      client: {
        beforeRequest: (signal) => gate.beforeRequest(signal),
        onRateLimited: (ms) => gate.onRateLimited(ms),
        onRetry: () => {
          counts.retries++;
        },
        retry: { maxAttempts: values.maxAttempts },
      },
    });
  } catch (error) {
    if (!values.dryRun || !isSmileCliError(error)) throw error;
    connectProblem = error.message;
  }
  if (connectProblem) ctx.out.warn(`${connectProblem} Checking the rows without it (production rules not applied).`);
  const environment = connection?.environment;
  return {
    connection,
    environment,
    environmentLabel: connection?.emulator ? 'emulator' : (environment ?? 'unknown environment'),
    gate,
    get retries() {
      return counts.retries;
    },
  };
}

/** Production needs a yes (a TTY prompt, or --yes); --no-wait without a callback URL gets a note. */
async function confirmRun(values: BulkValues, ctx: RunContext, opened: OpenedInput, link: RunLink): Promise<void> {
  const { input, prescan } = opened;
  if (link.environment === 'production' && !values.dryRun && !ctx.globals.yes)
    await confirmProduction(
      ctx,
      input.path ? prescan.rows : undefined,
      link.connection!.partnerId,
      input.path === undefined,
    );
  if (!values.wait && !values.dryRun && !link.connection?.callbackUrl)
    ctx.out.info(
      ctx.out.paint(
        'dim',
        'Note: --no-wait without a default callback URL: rows without callback_url get their results only through `smile status` or --resume.',
      ),
    );
}

async function confirmProduction(
  ctx: RunContext,
  rows: number | undefined,
  partnerId: string,
  stdinIsInput: boolean,
): Promise<void> {
  const what = rows === undefined ? 'the rows on stdin' : `${rows} row${rows === 1 ? '' : 's'}`;
  if (!ctx.interactive || ctx.globals.json || stdinIsInput) {
    throw new UsageError(
      `smile bulk in production needs --yes without an interactive terminal (it would register ${what} for partner ${partnerId}).`,
      {
        code: 'confirmation_required',
        hint: 'Add --yes to confirm, e.g. smile bulk users.csv --env production --yes',
      },
    );
  }
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: false });
  try {
    const answer = await rl.question(`Register ${what} in PRODUCTION for partner ${partnerId}? [y/N] `, {
      signal: ctx.signal,
    });
    // No is an answer, not an interruption: exit 9 (DeclinedError); Ctrl-C at the prompt stays 130.
    if (!/^y(es)?$/i.test(answer.trim())) throw new DeclinedError();
  } catch (error) {
    if (error instanceof DeclinedError || error instanceof CancelledError) throw error;
    throw ctx.signal.aborted ? new CancelledError('Interrupted: nothing was sent.') : new DeclinedError();
  } finally {
    rl.close();
  }
}

/** The records to read, and the files a run writes: its journal (not with --dry-run), report and rejects. */
interface RunFiles {
  records: AsyncGenerator<InputRecord>;
  unknownColumns: string[];
  journal: JournalWriter | undefined;
  report: ReportWriter | undefined;
  rejects: RejectsWriter | undefined;
  html: BulkHtmlReport | undefined;
}

/** Opened only now that the run will happen, and before anything is sent. */
async function openRunFiles(
  values: BulkValues,
  ctx: RunContext,
  opened: OpenedInput,
  journalState: JournalState | undefined,
  extra: { link: RunLink; thumbnails: boolean },
): Promise<RunFiles> {
  const { input, prescan, shardText, journalPath, resumeCommand } = opened;
  const { records, columns, unknownColumns } = await readInputRecords(input);
  if (unknownColumns.length > 0) ctx.out.warn(`Ignored columns (not bulk columns): ${unknownColumns.join(', ')}.`);
  const rebuild = (flag: string) =>
    `Free disk space or fix the permissions (or pick another ${flag} path), then run: ${resumeCommand} — the journal rebuilds it; nothing is sent twice.`;
  const report = values.report
    ? new ReportWriter(resolve(values.report), { writeHint: rebuild('--report') })
    : undefined;
  let rejects: RejectsWriter | undefined;
  let journal: JournalWriter | undefined;
  let html: BulkHtmlReport | undefined;
  try {
    html = values.html
      ? openBulkHtml(resolve(values.html), {
          shape: { format: input.format, columns, baseDir: input.baseDir },
          thumbnails: extra.thumbnails,
          resumeCommand,
          globals: ctx.globals,
        })
      : undefined;
    rejects = values.rejects
      ? new RejectsWriter(resolve(values.rejects), {
          format: input.format,
          columns,
          inputDir: input.baseDir,
          writeHint: rebuild('--rejects'),
        })
      : undefined;
    if (!values.dryRun) {
      journal = journalState
        ? await JournalWriter.append(journalPath, { tornTail: journalState.tornTail })
        : await JournalWriter.create(journalPath, {
            t: 'run',
            v: JOURNAL_VERSION,
            input: { name: input.display, format: input.format, ...prescan.fingerprint },
            shard: shardText,
            started_at: new Date().toISOString(),
            ...(extra.link.connection
              ? { partner_id: extra.link.connection.partnerId, environment: extra.link.environmentLabel }
              : {}),
          });
    }
  } catch (error) {
    closeQuietly(report);
    closeQuietly(rejects);
    html?.discard();
    throw error;
  }
  if (journal && !input.path && !values.journal)
    ctx.out.info(`Journal: ${journal.path} (if the run stops, finish it with: ${resumeCommand})`);
  return { records, unknownColumns, journal, report, rejects, html };
}

function closeQuietly(output: { close(): void } | undefined): void {
  try {
    output?.close();
  } catch {
    // already failing for another reason
  }
}

/** Close the report and the rejects file, both; the first error (the run fails with it), if any. */
function closeOutputFiles(files: RunFiles): unknown {
  let failure: unknown;
  for (const output of [files.report, files.rejects]) {
    try {
      output?.close();
    } catch (error) {
      failure ??= error;
    }
  }
  return failure;
}

/**
 * The selfie checks (sharp: a native decode, then statistics in JavaScript, maybe a re-encode) are
 * CPU work: every worker shares one pool of twice the cores (so one check's JavaScript overlaps
 * another's native decode; measured best on 2 cores), whatever --concurrency is (--concurrency
 * covers network waits). More at once would only add decoded images to memory.
 */
function sharedSelfiePool(load: RegistrationDeps['loadSelfie'], signal: AbortSignal): RegistrationDeps['loadSelfie'] {
  const pool = new Semaphore(Math.max(2, Math.min(16, availableParallelism() * 2)));
  return async (path, options) => {
    await pool.acquire(signal);
    try {
      return await load(path, options);
    } finally {
      pool.release();
    }
  };
}

/** What the row loops work with. */
interface RowsRun {
  ctx: RunContext;
  shard: BulkValues['shard'];
  concurrency: number;
  validate: ValidateContext;
  journalState: JournalState | undefined;
  journalPath: string;
  environment: Environment | undefined;
  rowOptions: RowOptions;
  loadSelfie: RegistrationDeps['loadSelfie'];
  /** The run's signal (Ctrl-C), shared by its many waits. */
  signal: AbortSignal;
  /** Every finished row, once. */
  emit: (result: RowResult) => void;
}

/** How the rows ended: interrupted (Ctrl-C), or stopped by an error (`fatal`), or neither. */
interface RowsEnd {
  interrupted: boolean;
  fatal: unknown;
}

/** One input record before anything is sent for it. */
type Triage =
  | { kind: 'other-shard' }
  | { kind: 'finished'; result: RowResult }
  | { kind: 'to-do'; row: BulkRow; entry: JournalEntry | undefined };

/**
 * Check one record and hold it against the journal: a row of another shard is skipped, a row the
 * journal has finished comes back from it (its report line), an invalid row is finished here; any
 * other row is to do, with what the journal knows of it. A journal that has someone else on the
 * row's line means the input changed since the run started: the run stops.
 */
async function triageRecord(record: InputRecord, run: RowsRun): Promise<Triage> {
  if (!inShard(recordUserId(record), run.shard)) return { kind: 'other-shard' };
  const check = await validateRecord(record, run.validate);
  const entry = run.journalState?.entries.get(record.line);
  if (entry?.final?.done) {
    if (check.ok && entry.userId !== check.row.userId) throw journalRowMismatch(run.journalPath, record.line, entry);
    return {
      kind: 'finished',
      result: journalResult(
        run.journalPath,
        entry,
        record.line,
        check.ok ? check.row.raw : check.problem.raw,
        run.environment,
      ),
    };
  }
  if (!check.ok) return { kind: 'finished', result: invalidResult(check.problem, entry, run.environment) };
  if (entry && entry.userId !== check.row.userId) throw journalRowMismatch(run.journalPath, record.line, entry);
  return { kind: 'to-do', row: check.row, entry };
}

/**
 * The input's rows still to do, in order, each with what the journal knows of it: rows of other
 * shards are skipped, finished and invalid rows emitted on the way. Ends early on Ctrl-C (noted in
 * `end`) or once `stopped()` says so.
 */
async function* rowsToDo(
  records: AsyncIterable<InputRecord>,
  run: RowsRun,
  end: RowsEnd,
  stopped: () => boolean = () => false,
): AsyncGenerator<Extract<Triage, { kind: 'to-do' }>> {
  for await (const record of records) {
    if (run.ctx.signal.aborted) {
      end.interrupted = true;
      return;
    }
    if (stopped()) return;
    const triage = await triageRecord(record, run);
    if (triage.kind === 'finished') run.emit(triage.result);
    else if (triage.kind === 'to-do') yield triage;
  }
}

/** The run proper: every row to do goes to the scheduler (submit, then wait), which journals each step. */
async function sendRows(records: AsyncIterable<InputRecord>, run: RowsRun, scheduler: BulkScheduler): Promise<RowsEnd> {
  const end: RowsEnd = { interrupted: false, fatal: undefined };
  try {
    for await (const { row, entry } of rowsToDo(records, run, end, () => scheduler.fatal !== undefined))
      await scheduler.add(row, entry);
    await scheduler.drain();
    return end;
  } catch (error) {
    // The scheduler's own stop (its first real error) is that error; only the user's Ctrl-C is an interruption.
    if (scheduler.fatal === undefined && (error instanceof CancelledError || run.ctx.signal.aborted)) {
      // Let the rows in flight see the abort and stop; their journal writes are flushed after.
      await scheduler.drain().catch(() => undefined);
      return { interrupted: true, fatal: undefined };
    }
    const stop = scheduler.fatal ?? error;
    scheduler.stop(stop);
    await scheduler.drain().catch(() => undefined);
    return { interrupted: end.interrupted, fatal: stop };
  }
}

/** `--dry-run`: every row to do goes through the real selfie checks, --concurrency at a time; nothing is sent. */
async function checkRows(records: AsyncIterable<InputRecord>, run: RowsRun): Promise<RowsEnd> {
  const end: RowsEnd = { interrupted: false, fatal: undefined };
  const slots = new Semaphore(run.concurrency);
  const tasks = new Set<Promise<void>>();
  let taskError: unknown;
  try {
    for await (const { row } of rowsToDo(records, run, end)) {
      await slots.acquire(run.signal);
      // Handled where it is made: a task that fails while the loop still awaits the next record
      // (Ctrl-C cancels the selfie pool) must not become an unhandled rejection.
      const task = dryCheckRow(row, run.rowOptions, run.loadSelfie, run.environment)
        .then(run.emit)
        .catch((error: unknown) => {
          if (error instanceof CancelledError || run.ctx.signal.aborted) end.interrupted = true;
          else taskError ??= error;
        })
        .finally(() => {
          slots.release();
          tasks.delete(task);
        });
      tasks.add(task);
    }
    await Promise.all([...tasks]);
    if (taskError !== undefined) throw taskError;
    return end;
  } catch (error) {
    const cancelled = error instanceof CancelledError || run.ctx.signal.aborted;
    await Promise.allSettled([...tasks]);
    return cancelled ? { interrupted: true, fatal: undefined } : { interrupted: end.interrupted, fatal: error };
  }
}

/** `--dry-run`: the row's selfie and liveness frames go through the real checks; nothing is sent. */
async function dryCheckRow(
  row: BulkRow,
  options: RowOptions,
  loadSelfie: RegistrationDeps['loadSelfie'],
  environment: Environment | undefined,
): Promise<RowResult> {
  const state = { jobId: row.jobId ?? '', step: 'new' as const, smileJobId: undefined };
  const env = environment ?? 'sandbox';
  try {
    const images = await loadImages(requestForRow(row, state, options), { loadSelfie });
    const warnings = images.reports.flatMap((report) => report.findings.map((finding) => finding.code));
    return {
      line: row.line,
      userId: row.userId,
      jobId: row.jobId,
      outcome: 'checked',
      status: 'ok',
      reason: undefined,
      doc: rowDocument({
        line: row.line,
        outcome: 'checked',
        status: 'ok',
        environment: env,
        userId: row.userId,
        jobId: row.jobId,
        smileJobId: undefined,
        jobStatus: undefined,
        reason: undefined,
        warnings,
      }),
      raw: row.raw,
      fromJournal: false,
    };
  } catch (error) {
    if (error instanceof InputError) return failedRow(row, state, error, options, env);
    throw error;
  }
}

function journalRowMismatch(path: string, line: number, entry: JournalEntry): InputError {
  return new InputError(
    `The journal ${path} has user ${entry.userId} on line ${line}, but the input has someone else there.`,
    { code: 'journal_mismatch', hint: 'The input changed since the run started; resume with the original file.' },
  );
}

/** A row finished in an earlier run: its report line comes back from the journal. */
function journalResult(
  path: string,
  entry: JournalEntry,
  line: number,
  raw: BulkRow['raw'],
  environment: Environment | undefined,
): RowResult {
  const outcome = entry.final!.outcome;
  const doc =
    readFinalDocument(path, entry) ??
    rowDocument({
      line,
      outcome,
      status: 'ok',
      environment: environment ?? 'sandbox',
      userId: entry.userId,
      jobId: entry.jobId,
      smileJobId: entry.smileJobId,
      jobStatus: undefined,
      reason: undefined,
    });
  return {
    line,
    userId: entry.userId,
    jobId: entry.jobId,
    outcome,
    status: doc.ok === true ? 'ok' : 'failed',
    reason: typeof doc.reason === 'string' ? doc.reason : undefined,
    doc,
    raw,
    fromJournal: true,
  };
}

function invalidResult(
  problem: RowProblem,
  entry: JournalEntry | undefined,
  environment: Environment | undefined,
): RowResult {
  const reason = problem.reason;
  const jobId = entry?.jobId;
  return {
    line: problem.line,
    userId: problem.userId,
    jobId,
    outcome: 'invalid',
    status: 'failed',
    reason,
    doc: rowDocument({
      line: problem.line,
      outcome: 'invalid',
      status: 'failed',
      environment: environment ?? 'sandbox',
      userId: problem.userId,
      jobId,
      smileJobId: entry?.smileJobId,
      jobStatus: undefined,
      reason,
      errorCode: problem.code,
    }),
    raw: problem.raw,
    fromJournal: false,
  };
}

/**
 * product.md's exit code of a run: the stopping error's own; for --dry-run 130, 4 when a row is
 * invalid, else 0; otherwise bulkExitCode (a shard can legitimately get no rows of a non-empty file).
 */
function exitCodeOf(
  tally: BulkTally,
  run: {
    stopped: SmileCliError | undefined;
    interrupted: boolean;
    dryRun: boolean;
    sharded: boolean;
    rowsInInput: number;
  },
): number {
  if (run.stopped) return run.stopped.exitCode;
  if (run.dryRun) return run.interrupted ? ExitCode.interrupted : tally.failed > 0 ? ExitCode.input : ExitCode.ok;
  return bulkExitCode(tally, {
    interrupted: run.interrupted,
    rowsInInput: run.sharded && run.rowsInInput === 0 ? -1 : run.rowsInInput,
  });
}

/** The summary: one JSON document with --json; else (--dry-run: the plan, then) the human summary on stderr. */
function printSummary(
  ctx: RunContext,
  tally: BulkTally,
  run: FinishedRun,
  values: BulkValues,
  where: { environmentLabel: string; journalPath: string },
): void {
  if (ctx.globals.json) {
    ctx.out.writeJson(
      summaryDocument(tally, run, values.dryRun ? planDocument(tally, values, where.journalPath) : undefined),
    );
    return;
  }
  if (values.dryRun && !run.stopped)
    ctx.out.stderr(planText(tally, values, { environmentLabel: where.environmentLabel, journal: where.journalPath }));
  ctx.out.stderr(renderSummary(tally, run, (color, text) => ctx.out.paint(color, text)));
}
