import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline/promises';
import type { RunContext, SmileConnection } from '../context.js';
import { CancelledError, ExitCode, InputError, SmileCliError, UsageError, isSmileCliError } from '../errors.js';
import { loadImages } from '../register/pipeline.js';
import type { RegistrationDeps } from '../register/pipeline.js';
import { stateDir } from '../config/paths.js';
import { writeFailureReason } from '../fs/durable.js';
import { JOURNAL_VERSION, JournalWriter, defaultJournalPath, journalExists, journalMismatch, readFinalDocument, readJournal, stdinJournalPath } from '../bulk/journal.js';
import { acquireFileLock } from '../fs/lock.js';
import type { JournalEntry, JournalState } from '../bulk/journal.js';
import { RequestGate } from '../bulk/limiter.js';
import { RateMeter, snapshotOf } from '../bulk/progress.js';
import type { BulkSnapshot } from '../bulk/progress.js';
import { RejectsWriter, ReportWriter, reportFormatOf } from '../bulk/report.js';
import { failedRow, requestForRow, rowDocument } from '../bulk/row.js';
import type { IfEnrolled, RowOptions, RowResult, RowStatus } from '../bulk/row.js';
import { openBulkInput, prescanInput, readInputRecords, recordUserId, validateRecord } from '../bulk/rows.js';
import type { BulkRow, InputFormat, RowProblem } from '../bulk/rows.js';
import { BulkScheduler, Semaphore } from '../bulk/scheduler.js';
import { SeenUserIds } from '../bulk/seen.js';
import { formatShard, inShard, parseShard } from '../bulk/shard.js';
import { BulkTally, bulkExitCode, renderSummary, rowLine, summaryDocument } from '../bulk/summary.js';
import type { SummaryFacts } from '../bulk/summary.js';
import { newJobId, parseDuration } from '../parse.js';

/** The options of `smile bulk` exactly as src/cli.ts defines them. */
export interface BulkOptions {
  format?: InputFormat;
  concurrency: number;
  rate?: number;
  maxAttempts: number;
  journal?: string;
  resume?: boolean;
  ifEnrolled: IfEnrolled;
  wait: boolean;
  timeout: string;
  report?: string;
  rejects?: string;
  dryRun?: boolean;
  shard?: string;
}

function checkOptions(opts: BulkOptions): { timeoutMs: number; shard: ReturnType<typeof parseShard> | undefined } {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new UsageError('--concurrency takes a whole number of at least 1.');
  if (opts.concurrency > 256) throw new UsageError(`--concurrency ${opts.concurrency} is more than 256.`, { hint: 'Use --rate to go faster politely; a few dozen workers saturate any account.' });
  if (opts.rate !== undefined && !(opts.rate > 0)) throw new UsageError('--rate takes a number of requests per second above 0.');
  if (!Number.isInteger(opts.maxAttempts) || opts.maxAttempts < 1) throw new UsageError('--max-attempts takes a whole number of at least 1.');
  if (!['fail', 'skip', 'replace'].includes(opts.ifEnrolled)) throw new UsageError(`--if-enrolled takes fail, skip or replace, not "${opts.ifEnrolled}".`);
  if (opts.format !== undefined && opts.format !== 'csv' && opts.format !== 'jsonl') throw new UsageError(`--format takes csv or jsonl, not "${String(opts.format)}".`);
  if (opts.report) reportFormatOf(opts.report, '--report');
  return { timeoutMs: parseDuration(opts.timeout), shard: opts.shard === undefined ? undefined : parseShard(opts.shard) };
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
    const real = await realpath(absolute).catch(async () => join(await realpath(dirname(absolute)).catch(() => dirname(absolute)), basename(absolute)));
    const other = seen.get(real);
    if (other) throw new UsageError(`${label} and ${other} are the same file (${path}).`, { hint: 'Write the report, rejects and journal to files of their own: the input is read while they are written.' });
    seen.set(real, label);
  }
}

/** A word for a POSIX shell: as is when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that finishes this run: the same input (a pipe: `… | smile bulk -`), journal,
 * shard, format, report and rejects, with --resume. Printed in every summary that needs it.
 */
function resumeCommandOf(input: { path: string | undefined; display: string }, opts: BulkOptions, shardText: string | null): string {
  const words = ['smile', 'bulk', input.path ? shellWord(input.display) : '-', '--resume'];
  if (opts.journal) words.push('--journal', shellWord(opts.journal));
  if (shardText) words.push('--shard', shardText);
  if (opts.format) words.push('--format', opts.format);
  if (opts.report) words.push('--report', shellWord(opts.report));
  if (opts.rejects) words.push('--rejects', shellWord(opts.rejects));
  return `${input.path ? '' : '… | '}${words.join(' ')}`;
}

/**
 * `smile bulk FILE|-`: many registrations from CSV or JSONL, with a journal that makes a crash
 * resumable (every row exactly once), a shared rate limit and 429 pause, decoupled submission
 * and waiting, a report and a rejects file. Returns product.md's bulk exit code.
 */
export async function runBulk(file: string, opts: BulkOptions, ctx: RunContext): Promise<number> {
  const started = performance.now();
  const { timeoutMs, shard } = checkOptions(opts);
  const shardText = shard ? formatShard(shard) : null;
  const dryRun = opts.dryRun === true;

  // The input: checked (header, user_id column) and fingerprinted before anything is created or sent.
  const input = await openBulkInput(file, opts.format, ctx.io.stdin);
  const prescan = await prescanInput(input, shard);
  await checkDistinctPaths([
    ['the input', input.path],
    ['--report', opts.report],
    ['--rejects', opts.rejects],
    ['--journal', opts.journal],
  ]);
  if (prescan.allRows === 0) throw new InputError(`${input.display} has no rows${input.format === 'csv' ? ' under its header' : ''}.`, { code: 'no_rows', hint: 'Add one line per person to register (user_id, selfie, …).' });

  // The journal: --journal, else beside the input file, else (stdin) in the state directory under
  // a name made from the piped bytes, so the same pipe finds it again with --resume.
  const journalPath = opts.journal
    ? resolve(opts.journal)
    : input.path
      ? defaultJournalPath(input.path, shardText ?? undefined)
      : stdinJournalPath(join(stateDir(ctx.env), 'bulk-journals'), prescan.fingerprint, shardText ?? undefined);
  const resumeCommand = resumeCommandOf(input, opts, shardText);
  if (dryRun) return executeBulk({ opts, ctx, started, timeoutMs, shard, shardText, input, prescan, journalPath, resumeCommand });

  // One run per journal: the lock is held from before the journal is read until the run is over.
  if (!input.path && !opts.journal) {
    try {
      await mkdir(dirname(journalPath), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new SmileCliError(`The directory for the journal of rows from stdin, ${dirname(journalPath)}, cannot be created: ${writeFailureReason(error)}.`, ExitCode.api, 'journal_write', {
        hint: 'Set SMILE_CONFIG_DIR to a writable directory, or pass --journal PATH.',
        cause: error,
      });
    }
  }
  const lock = await acquireFileLock(journalPath, {
    onStale: (owner, lockPath) => ctx.out.warn(`Taking over the stale lock ${lockPath}: its run (pid ${owner.pid} on ${owner.host}, started ${owner.started_at}) is no longer running.`),
  });
  try {
    return await executeBulk({ opts, ctx, started, timeoutMs, shard, shardText, input, prescan, journalPath, resumeCommand });
  } finally {
    await lock.release();
  }
}

/** A bulk run once its input and journal are known (and, unless --dry-run, its lock is held). */
interface BulkRun {
  opts: BulkOptions;
  ctx: RunContext;
  started: number;
  timeoutMs: number;
  shard: ReturnType<typeof parseShard> | undefined;
  shardText: string | null;
  input: Awaited<ReturnType<typeof openBulkInput>>;
  prescan: Awaited<ReturnType<typeof prescanInput>>;
  journalPath: string;
  resumeCommand: string;
}

async function executeBulk(run: BulkRun): Promise<number> {
  const { opts, ctx, started, timeoutMs, shard, shardText, input, prescan, journalPath, resumeCommand } = run;
  const dryRun = opts.dryRun === true;
  // One signal for the run's many waits (workers, pools, sleeping retries): thousands of listeners is expected.
  const runSignal = AbortSignal.any([ctx.signal]);
  setMaxListeners(0, runSignal);

  const exists = await journalExists(journalPath);
  let journalState: JournalState | undefined;
  if (exists) {
    if (!opts.resume && !dryRun) {
      const state = await readJournal(journalPath).catch(() => undefined);
      const mismatch = state ? journalMismatch(state.header, prescan.fingerprint, shardText) : 'it cannot be read';
      if (mismatch) throw new UsageError(`The journal ${journalPath} exists and is not this input's (${mismatch}).`, { code: 'journal_exists', hint: 'Pass --journal PATH to keep this run\'s journal elsewhere, or move the old journal aside.' });
      const done = [...state!.entries.values()].filter((entry) => entry.final?.done).length;
      throw new UsageError(`A journal of this input already exists: ${journalPath} (${done} row${done === 1 ? '' : 's'} finished).`, {
        code: 'journal_exists',
        hint: `Finish that run (every row exactly once) with: ${resumeCommand}${input.path ? '' : ' (the same rows on stdin)'}. Or pass --journal NEW to start a separate run.`,
      });
    }
    if (opts.resume) {
      journalState = await readJournal(journalPath);
      const mismatch = journalMismatch(journalState.header, prescan.fingerprint, shardText);
      if (mismatch) throw new UsageError(`--resume: the journal ${journalPath} does not belong to this input: ${mismatch}.`, { code: 'journal_mismatch', hint: 'Resume needs the same file (and --shard) the run started with; to re-run failed rows use the --rejects file as a new input.' });
    }
  } else if (opts.resume && !dryRun) {
    throw new UsageError(`--resume: there is no journal at ${journalPath}.`, { code: 'journal_missing', hint: input.path || opts.journal ? 'Run without --resume to start, or pass --journal PATH where the earlier run kept it.' : 'Rows from stdin find their journal by their first 64 KiB: pipe exactly the same rows, or pass --journal PATH.' });
  }

  // The connection: every request passes the shared gate (rate limit, one 429 pause for all).
  const gate = new RequestGate({ rate: opts.rate });
  let retries = 0;
  let connection: SmileConnection | undefined;
  let connectProblem: string | undefined;
  try {
    connection = await ctx.connect({
      client: {
        beforeRequest: (signal) => gate.beforeRequest(signal),
        onRateLimited: (ms) => gate.onRateLimited(ms),
        onRetry: () => {
          retries++;
        },
        retry: { maxAttempts: opts.maxAttempts },
      },
    });
  } catch (error) {
    if (!dryRun || !isSmileCliError(error)) throw error;
    connectProblem = error.message;
  }
  const environment = connection?.environment;
  const environmentLabel = connection?.emulator ? 'emulator' : (environment ?? 'unknown environment');
  if (connectProblem) ctx.out.warn(`${connectProblem} Checking the rows without it (production rules not applied).`);

  if (environment === 'production' && !dryRun && !ctx.globals.yes) await confirmProduction(ctx, input.path ? prescan.rows : undefined, connection!.partnerId, input.path === undefined);
  if (!opts.wait && !dryRun && !connection?.callbackUrl) ctx.out.info(ctx.out.paint('dim', 'Note: --no-wait without a default callback URL: rows without callback_url get their results only through `smile status` or --resume.'));

  // Outputs, opened only now that the run will happen (and before anything is sent).
  const { records, columns, unknownColumns } = await readInputRecords(input);
  if (unknownColumns.length > 0) ctx.out.warn(`Ignored columns (not bulk columns): ${unknownColumns.join(', ')}.`);
  const rebuild = (flag: string) => `Free disk space or fix the permissions (or pick another ${flag} path), then run: ${resumeCommand} — the journal rebuilds it; nothing is sent twice.`;
  const report = opts.report ? new ReportWriter(resolve(opts.report), { writeHint: rebuild('--report') }) : undefined;
  let rejects: RejectsWriter | undefined;
  let journal: JournalWriter | undefined;
  try {
    rejects = opts.rejects ? new RejectsWriter(resolve(opts.rejects), { format: input.format, columns, inputDir: input.baseDir, writeHint: rebuild('--rejects') }) : undefined;
    if (!dryRun) {
      journal = journalState
        ? await JournalWriter.append(journalPath, { tornTail: journalState.tornTail })
        : await JournalWriter.create(journalPath, { t: 'run', v: JOURNAL_VERSION, input: { name: input.display, format: input.format, ...prescan.fingerprint }, shard: shardText, started_at: new Date().toISOString() });
    }
  } catch (error) {
    closeQuietly(report);
    closeQuietly(rejects);
    throw error;
  }
  if (journal && !input.path && !opts.journal) ctx.out.info(`Journal: ${journal.path} (if the run stops, finish it with: ${resumeCommand})`);

  const tally = new BulkTally();
  const meter = new RateMeter();
  const rowOptions: RowOptions = { wait: opts.wait, timeoutMs, ifEnrolled: opts.ifEnrolled, callbackUrl: connection?.callbackUrl };
  const { loadSelfieForUpload } = await import('../selfie/check.js');
  const loadSelfie = sharedSelfiePool(loadSelfieForUpload, runSignal);
  const scheduler = connection && !dryRun
    ? new BulkScheduler(
        // --max-attempts 1 means no retries at all: no recovery rounds either.
        { ...rowOptions, concurrency: opts.concurrency, ...(opts.maxAttempts === 1 ? { recoveryRounds: 0 } : {}) },
        { client: connection.client, environment: connection.environment, signal: runSignal, loadSelfie, journal: journal!, newJobId, onResult: (result) => emit(result) },
      )
    : undefined;

  const snapshot = (): BulkSnapshot =>
    snapshotOf(tally, {
      total: Number.isNaN(prescan.rows) ? undefined : prescan.rows,
      elapsedMs: performance.now() - started,
      rate: meter.rate(Date.now(), Date.now() - (performance.now() - started)),
      submitting: scheduler?.submitting ?? 0,
      waiting: scheduler?.waiting ?? 0,
      paused: gate.pausedUntil > Date.now(),
      retries,
      rateLimitPauses: gate.pauses,
      environment: environmentLabel,
      dryRun,
    });
  const dashboard = ctx.animate ? (await import('../ui/bulk-dashboard.js')).mountBulkDashboard(snapshot, ctx.io.stderr) : undefined;

  function emit(result: RowResult): void {
    tally.add(result);
    if (!result.fromJournal) meter.mark(Date.now());
    if (!dashboard) ctx.out.info(rowLine(result));
    report?.write(result);
    rejects?.write(result);
  }

  const validateContext = { baseDir: input.baseDir, environment, seen: new SeenUserIds() };
  const dryChecks = new Semaphore(opts.concurrency);
  const dryTasks = new Set<Promise<void>>();
  let interrupted = false;
  let fatal: unknown;
  let dryError: unknown;
  try {
    for await (const record of records) {
      if (ctx.signal.aborted) {
        interrupted = true;
        break;
      }
      if (scheduler?.fatal !== undefined) break;
      if (!inShard(recordUserId(record), shard)) continue;
      const check = await validateRecord(record, validateContext);
      const entry = journalState?.entries.get(record.line);
      if (entry?.final?.done) {
        if (check.ok && entry.userId !== check.row.userId) throw journalRowMismatch(journalPath, record.line, entry);
        emit(journalResult(journalPath, entry, record.line, check.ok ? check.row.raw : check.problem.raw, environment));
        continue;
      }
      if (!check.ok) {
        emit(invalidResult(check.problem, entry, environment));
        continue;
      }
      if (entry && entry.userId !== check.row.userId) throw journalRowMismatch(journalPath, record.line, entry);
      if (dryRun) {
        await dryChecks.acquire(runSignal);
        // Handled where it is made: a task that fails while the loop still awaits the next record
        // (Ctrl-C cancels the selfie pool) must not become an unhandled rejection.
        const task = dryCheckRow(check.row, rowOptions, loadSelfie, environment)
          .then(emit)
          .catch((error: unknown) => {
            if (error instanceof CancelledError || ctx.signal.aborted) interrupted = true;
            else dryError ??= error;
          })
          .finally(() => {
            dryChecks.release();
            dryTasks.delete(task);
          });
        dryTasks.add(task);
        continue;
      }
      await scheduler!.add(check.row, entry);
    }
    await Promise.all([...dryTasks]);
    if (dryError !== undefined) throw dryError;
    await scheduler?.drain();
  } catch (error) {
    // The scheduler's own stop (its first real error) is that error; only the user's Ctrl-C is an interruption.
    const stop = scheduler?.fatal ?? error;
    if (scheduler?.fatal === undefined && (error instanceof CancelledError || ctx.signal.aborted)) {
      interrupted = true;
      // Let the rows in flight see the abort and stop; their journal writes are flushed below.
      await scheduler?.drain().catch(() => undefined);
      await Promise.allSettled([...dryTasks]);
    } else {
      fatal = stop;
      scheduler?.stop(stop);
      await scheduler?.drain().catch(() => undefined);
      await Promise.allSettled([...dryTasks]);
    }
  } finally {
    dashboard?.stop();
    await journal?.close();
    // Flushed and fsynced here; a report or rejects file that cannot be written fails the run.
    for (const output of [report, rejects]) {
      try {
        output?.close();
      } catch (error) {
        fatal ??= error;
      }
    }
  }
  fatal ??= scheduler?.fatal;
  if (ctx.signal.aborted && fatal === undefined) interrupted = true;
  if (fatal !== undefined && !isSmileCliError(fatal)) {
    // A bug: the boundary says how to report it; the journal still lets the run finish.
    if (!ctx.globals.json) ctx.out.stderr(`${tally.done} row(s) finished before the run stopped${journal ? `; the journal ${journal.path} knows every step: finish with ${resumeCommand}` : ''}.\n`);
    throw fatal;
  }
  const stopped = isSmileCliError(fatal) ? fatal : undefined;

  const rowsInInput = Number.isNaN(prescan.rows) ? tally.done : prescan.rows;
  const facts: SummaryFacts = {
    exitCode: 0,
    interrupted: interrupted && !stopped,
    stopped: stopped ? { code: stopped.code, message: stopped.message, hint: stopped.hint } : undefined,
    resumeCommand: journal ? resumeCommand : null,
    inFlightAtInterrupt: scheduler?.interrupted ?? 0,
    dryRun,
    wait: opts.wait,
    environment: environmentLabel,
    input: input.display,
    shard: shardText,
    rowsInInput: Number.isNaN(prescan.rows) ? null : prescan.rows,
    journal: journal?.path ?? null,
    report: report?.path ?? null,
    rejects: rejects?.path ?? null,
    rejectsWritten: rejects?.count ?? 0,
    elapsedMs: performance.now() - started,
    requests: { retries, rateLimitPauses: gate.pauses },
    unknownColumns,
  };
  // A shard can legitimately get no rows of a non-empty file.
  facts.exitCode = stopped
    ? stopped.exitCode
    : dryRun
      ? interrupted ? ExitCode.interrupted : tally.failed > 0 ? ExitCode.input : ExitCode.ok
      : bulkExitCode(tally, { interrupted, rowsInInput: shard && rowsInInput === 0 ? -1 : rowsInInput });
  if (dryRun && !stopped && !ctx.globals.json) ctx.out.stderr(planText(tally, opts, { environmentLabel, journal: journalPath, rate: opts.rate, timeoutMs }));
  if (ctx.globals.json) {
    const document = summaryDocument(tally, facts);
    if (dryRun) document['plan'] = planDocument(tally, opts, { journal: journalPath, timeoutMs });
    ctx.out.writeJson(document);
  } else {
    ctx.out.stderr(renderSummary(tally, facts, (color, text) => ctx.out.paint(color, text)));
  }
  return facts.exitCode;
}

function closeQuietly(output: { close(): void } | undefined): void {
  try {
    output?.close();
  } catch {
    // already failing for another reason
  }
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

async function confirmProduction(ctx: RunContext, rows: number | undefined, partnerId: string, stdinIsInput: boolean): Promise<void> {
  const what = rows === undefined ? 'the rows on stdin' : `${rows} row${rows === 1 ? '' : 's'}`;
  if (!ctx.interactive || ctx.globals.json || stdinIsInput) {
    throw new UsageError(`smile bulk in production needs --yes without an interactive terminal (it would register ${what} for partner ${partnerId}).`, {
      code: 'confirmation_required',
      hint: 'Add --yes to confirm, e.g. smile bulk users.csv --env production --yes',
    });
  }
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: false });
  try {
    const answer = await rl.question(`Register ${what} in PRODUCTION for partner ${partnerId}? [y/N] `, { signal: ctx.signal });
    if (!/^y(es)?$/i.test(answer.trim())) throw new CancelledError('Cancelled: nothing was sent.');
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    throw new CancelledError('Cancelled: nothing was sent.');
  } finally {
    rl.close();
  }
}

function journalRowMismatch(path: string, line: number, entry: JournalEntry): InputError {
  return new InputError(`The journal ${path} has user ${entry.userId} on line ${line}, but the input has someone else there.`, { code: 'journal_mismatch', hint: 'The input changed since the run started; resume with the original file.' });
}

/** A row finished in an earlier run: its report line comes back from the journal. */
function journalResult(path: string, entry: JournalEntry, line: number, raw: BulkRow['raw'], environment: SmileConnection['environment'] | undefined): RowResult {
  const doc = readFinalDocument(path, entry) ?? rowDocument({ line, outcome: entry.final!.outcome as RowResult['outcome'], status: 'ok', environment: environment ?? 'sandbox', userId: entry.userId, jobId: entry.jobId, smileJobId: entry.smileJobId, jobStatus: undefined, reason: undefined });
  const status: RowStatus = doc['ok'] === true ? 'ok' : 'failed';
  return { line, userId: entry.userId, jobId: entry.jobId, outcome: entry.final!.outcome as RowResult['outcome'], status, reason: typeof doc['reason'] === 'string' ? doc['reason'] : undefined, doc, raw, fromJournal: true };
}

function invalidResult(problem: RowProblem, entry: JournalEntry | undefined, environment: SmileConnection['environment'] | undefined): RowResult {
  const reason = problem.reason;
  const jobId = entry?.jobId;
  return {
    line: problem.line,
    userId: problem.userId,
    jobId,
    outcome: 'invalid',
    status: 'failed',
    reason,
    doc: rowDocument({ line: problem.line, outcome: 'invalid', status: 'failed', environment: environment ?? 'sandbox', userId: problem.userId, jobId, smileJobId: entry?.smileJobId, jobStatus: undefined, reason, errorCode: problem.code }),
    raw: problem.raw,
    fromJournal: false,
  };
}

/** `--dry-run`: the row's selfie and liveness frames go through the real checks; nothing is sent. */
async function dryCheckRow(row: BulkRow, options: RowOptions, loadSelfie: RegistrationDeps['loadSelfie'], environment: SmileConnection['environment'] | undefined): Promise<RowResult> {
  const state = { jobId: row.jobId ?? '', step: 'new' as const, smileJobId: undefined };
  const env = environment ?? 'sandbox';
  try {
    const images = await loadImages(requestForRow(row, state, options), { loadSelfie });
    const warnings = images.reports.flatMap((report) => report.findings.map((finding) => finding.code));
    return { line: row.line, userId: row.userId, jobId: row.jobId, outcome: 'checked', status: 'ok', reason: undefined, doc: rowDocument({ line: row.line, outcome: 'checked', status: 'ok', environment: env, userId: row.userId, jobId: row.jobId, smileJobId: undefined, jobStatus: undefined, reason: undefined, warnings }), raw: row.raw, fromJournal: false };
  } catch (error) {
    if (error instanceof InputError) return failedRow(row, state, error, options, env);
    throw error;
  }
}

function planDocument(tally: BulkTally, opts: BulkOptions, facts: { journal: string | null; timeoutMs: number }): Record<string, unknown> {
  return {
    to_send: tally.outcomes.checked,
    invalid: tally.outcomes.invalid,
    already_done: tally.fromJournal,
    concurrency: opts.concurrency,
    rate: opts.rate ?? null,
    max_attempts: opts.maxAttempts,
    wait: opts.wait,
    timeout_ms: facts.timeoutMs,
    if_enrolled: opts.ifEnrolled,
    journal: facts.journal,
  };
}

function planText(tally: BulkTally, opts: BulkOptions, facts: { environmentLabel: string; journal: string | undefined; rate: number | undefined; timeoutMs: number }): string {
  const parts = [
    `${tally.outcomes.checked} registration${tally.outcomes.checked === 1 ? '' : 's'} would be sent`,
    `${tally.outcomes.invalid} invalid row${tally.outcomes.invalid === 1 ? '' : 's'}`,
    ...(tally.fromJournal > 0 ? [`${tally.fromJournal} already finished (journal)`] : []),
  ];
  const how = [
    facts.environmentLabel,
    `concurrency ${opts.concurrency}`,
    facts.rate ? `rate ${facts.rate}/s` : 'no rate limit',
    opts.wait ? `wait for results (timeout ${Math.round(facts.timeoutMs / 1000)}s)` : 'submit only (--no-wait)',
    `if enrolled: ${opts.ifEnrolled}`,
    `up to ${opts.maxAttempts} attempts per request`,
    ...(facts.journal ? [`journal ${facts.journal}`] : []),
  ];
  return `Plan: ${parts.join(' · ')}\n  ${how.join(' · ')}\n  Nothing was sent.\n`;
}
