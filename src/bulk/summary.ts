import { ExitCode } from '../errors.js';
import type { BulkOutcome, RowResult } from './row-result.js';
import type { BulkValues } from './values.js';

export const BULK_OUTCOMES: readonly BulkOutcome[] = [
  'approved',
  'submitted',
  'skipped',
  'checked',
  'rejected',
  'refused',
  'invalid',
  'provisional',
  'pending',
  'error',
];

export interface FailureNote {
  line: number;
  user_id: string | null;
  outcome: BulkOutcome;
  reason: string;
}

/**
 * Running counts of a bulk run: per outcome and per status, the rows finished in earlier runs,
 * and the first and the most recent failures (bounded, so memory stays flat).
 */
export class BulkTally {
  readonly outcomes: Record<BulkOutcome, number> = Object.fromEntries(
    BULK_OUTCOMES.map((outcome) => [outcome, 0]),
  ) as Record<BulkOutcome, number>;
  ok = 0;
  retryable = 0;
  failed = 0;
  /** Rows whose result came from the journal of an earlier run. */
  fromJournal = 0;
  /** Rows finished in this run (sent or checked now). */
  finishedNow = 0;
  readonly firstFailures: FailureNote[] = [];
  readonly recentFailures: FailureNote[] = [];
  static readonly KEEP_FIRST = 10;
  static readonly KEEP_RECENT = 5;

  get done(): number {
    return this.ok + this.retryable + this.failed;
  }

  add(result: RowResult): void {
    this.outcomes[result.outcome]++;
    if (result.status === 'ok') this.ok++;
    else if (result.status === 'retryable') this.retryable++;
    else this.failed++;
    if (result.fromJournal) this.fromJournal++;
    else this.finishedNow++;
    if (result.status !== 'ok') {
      const note: FailureNote = {
        line: result.line,
        user_id: result.userId ?? null,
        outcome: result.outcome,
        reason: result.reason ?? result.outcome,
      };
      if (this.firstFailures.length < BulkTally.KEEP_FIRST) this.firstFailures.push(note);
      this.recentFailures.push(note);
      if (this.recentFailures.length > BulkTally.KEEP_RECENT) this.recentFailures.shift();
    }
  }
}

/**
 * product.md's bulk exit codes: 130 interrupted; 4 when nothing in the input was usable (no rows,
 * or every row invalid); 5 when some rows need a re-run (network/5xx after retries, not final at
 * the timeout, under review) — it wins over 6, because `--resume` is the next step either way;
 * 6 when some rows failed for good (rejected, refused, invalid); else 0.
 */
export function bulkExitCode(tally: BulkTally, options: { interrupted: boolean; rowsInInput: number }): number {
  if (options.interrupted) return ExitCode.interrupted;
  if (options.rowsInInput === 0) return ExitCode.input;
  if (tally.done > 0 && tally.outcomes.invalid === tally.done) return ExitCode.input;
  if (tally.retryable > 0) return ExitCode.api;
  if (tally.failed > 0) return ExitCode.refused;
  // A backstop: success only when every input row has a result (none silently missing).
  if (tally.done < options.rowsInInput) return ExitCode.api;
  return ExitCode.ok;
}

/** The error that stopped a run before every row was done (not Ctrl-C): it is the run's outcome. */
export interface StopError {
  code: string;
  message: string;
  hint: string | undefined;
}

/**
 * A run once it is over, as the summary tells it besides the tally's counts: how it ended, what it
 * ran on, where its files are, how long it took.
 */
export interface FinishedRun {
  exitCode: number;
  interrupted: boolean;
  /** Set when an error stopped the run (bad signatures, a file that cannot be written, …). */
  stopped?: StopError | undefined;
  /** The command that finishes this run (`smile bulk users.csv --resume …`, `… | smile bulk - --resume`); null without a journal. */
  resumeCommand?: string | null;
  inFlightAtInterrupt: number;
  dryRun: boolean;
  wait: boolean;
  environment: string | undefined;
  input: string;
  shard: string | null;
  rowsInInput: number | null;
  journal: string | null;
  report: string | null;
  rejects: string | null;
  rejectsWritten: number;
  /** --html: the page written when the run ended. */
  html?: string | null;
  elapsedMs: number;
  requests: { retries: number; rateLimitPauses: number };
  unknownColumns: readonly string[];
}

/** `--dry-run`'s plan in the summary document: what would be sent, and how. */
export interface BulkPlanDocument {
  to_send: number;
  invalid: number;
  already_done: number;
  concurrency: number;
  rate: number | null;
  max_attempts: number;
  wait: boolean;
  timeout_ms: number;
  if_enrolled: BulkValues['ifEnrolled'];
  journal: string | null;
}

/** The one JSON document of `smile bulk --json` (per-row documents go to the --report file). */
export interface BulkSummaryDocument {
  ok: boolean;
  exit_code: number;
  dry_run: boolean;
  interrupted: boolean;
  stopped: boolean;
  /** The error that stopped the run, when one did. */
  error?: { code: string; message: string; hint: string | null };
  environment: string | null;
  input: string;
  shard: string | null;
  rows: number;
  rows_in_input: number | null;
  succeeded: number;
  retryable: number;
  failed: number;
  outcomes: Readonly<Record<BulkOutcome, number>>;
  from_journal: number;
  in_flight_at_interrupt: number;
  elapsed_ms: number;
  rows_per_second: number | null;
  retries: number;
  rate_limit_pauses: number;
  journal: string | null;
  report: string | null;
  rejects: string | null;
  /** --html: the HTML report (only when asked for). */
  html?: string;
  first_failures: readonly FailureNote[];
  next_step: string | null;
  /** `--dry-run` only. */
  plan?: BulkPlanDocument;
}

/** The summary document from the tally and the finished run (with `--dry-run`, its plan last). */
export function summaryDocument(tally: BulkTally, run: FinishedRun, plan?: BulkPlanDocument): BulkSummaryDocument {
  const seconds = run.elapsedMs / 1000;
  return {
    ok: run.exitCode === ExitCode.ok && !run.stopped,
    exit_code: run.exitCode,
    dry_run: run.dryRun,
    interrupted: run.interrupted,
    stopped: run.stopped !== undefined,
    ...(run.stopped
      ? { error: { code: run.stopped.code, message: run.stopped.message, hint: run.stopped.hint ?? null } }
      : {}),
    environment: run.environment ?? null,
    input: run.input,
    shard: run.shard,
    rows: tally.done,
    rows_in_input: run.rowsInInput,
    succeeded: tally.ok,
    retryable: tally.retryable,
    failed: tally.failed,
    outcomes: tally.outcomes,
    from_journal: tally.fromJournal,
    in_flight_at_interrupt: run.inFlightAtInterrupt,
    elapsed_ms: Math.round(run.elapsedMs),
    rows_per_second: seconds > 0 ? Math.round((tally.finishedNow / seconds) * 100) / 100 : null,
    retries: run.requests.retries,
    rate_limit_pauses: run.requests.rateLimitPauses,
    journal: run.journal,
    report: run.report,
    rejects: run.rejects,
    ...(run.html ? { html: run.html } : {}),
    first_failures: tally.firstFailures,
    next_step: nextStep(tally, run),
    ...(plan ? { plan } : {}),
  };
}

/** How a run was set to go, for `--dry-run`'s plan. */
export type PlanSettings = Pick<BulkValues, 'concurrency' | 'rate' | 'maxAttempts' | 'wait' | 'timeout' | 'ifEnrolled'>;

/** `--dry-run`'s plan for the summary document. */
export function planDocument(tally: BulkTally, settings: PlanSettings, journal: string | null): BulkPlanDocument {
  return {
    to_send: tally.outcomes.checked,
    invalid: tally.outcomes.invalid,
    already_done: tally.fromJournal,
    concurrency: settings.concurrency,
    rate: settings.rate ?? null,
    max_attempts: settings.maxAttempts,
    wait: settings.wait,
    timeout_ms: settings.timeout.ms,
    if_enrolled: settings.ifEnrolled,
    journal,
  };
}

/** `--dry-run`'s plan for humans (stderr, before the summary). */
export function planText(
  tally: BulkTally,
  settings: PlanSettings,
  where: { environmentLabel: string; journal: string | undefined },
): string {
  const parts = [
    `${tally.outcomes.checked} registration${tally.outcomes.checked === 1 ? '' : 's'} would be sent`,
    `${tally.outcomes.invalid} invalid row${tally.outcomes.invalid === 1 ? '' : 's'}`,
    ...(tally.fromJournal > 0 ? [`${tally.fromJournal} already finished (journal)`] : []),
  ];
  const how = [
    where.environmentLabel,
    `concurrency ${settings.concurrency}`,
    settings.rate ? `rate ${settings.rate}/s` : 'no rate limit',
    settings.wait ? `wait for results (timeout ${Math.round(settings.timeout.ms / 1000)}s)` : 'submit only (--no-wait)',
    `if enrolled: ${settings.ifEnrolled}`,
    `up to ${settings.maxAttempts} attempts per request`,
    ...(where.journal ? [`journal ${where.journal}`] : []),
  ];
  return `Plan: ${parts.join(' · ')}\n  ${how.join(' · ')}\n  Nothing was sent.\n`;
}

function nextStep(tally: BulkTally, run: FinishedRun): string | null {
  const resume = run.resumeCommand ?? `smile bulk ${run.input} --resume${run.shard ? ` --shard ${run.shard}` : ''}`;
  if (run.stopped)
    return run.journal
      ? `Fix the problem above, then finish with: ${resume}`
      : 'Fix the problem above, then run again.';
  if (run.interrupted) return `Finish with: ${resume}`;
  if (run.dryRun)
    return tally.failed > 0
      ? 'Fix the invalid rows (see above), then run without --dry-run.'
      : 'Run again without --dry-run to send.';
  if (tally.retryable > 0) return `Some rows need a re-run: ${resume}`;
  if (tally.failed > 0)
    return run.rejects
      ? `Fix the rows in ${run.rejects} and run it as a new input.`
      : 'Pass --rejects PATH to get the failed rows as a file ready to fix and re-run.';
  return null;
}

/** The human summary (stderr). */
export function renderSummary(
  tally: BulkTally,
  run: FinishedRun,
  paint: (color: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string,
): string {
  const lines: string[] = [];
  const seconds = run.elapsedMs / 1000;
  const counts = BULK_OUTCOMES.filter((outcome) => tally.outcomes[outcome] > 0).map(
    (outcome) => `${outcome} ${tally.outcomes[outcome]}`,
  );
  const head = run.stopped ? 'Stopped' : run.dryRun ? 'Dry run' : run.interrupted ? 'Interrupted' : 'Done';
  const rate = seconds > 0 && tally.finishedNow > 0 ? ` · ${(tally.finishedNow / seconds).toFixed(1)} rows/s` : '';
  lines.push(
    `${paint('bold', head)}: ${tally.done} row${tally.done === 1 ? '' : 's'}${run.shard ? ` (shard ${run.shard})` : ''} in ${seconds.toFixed(1)}s${rate}${counts.length > 0 ? ` · ${counts.join(' · ')}` : ''}`,
  );
  if (tally.fromJournal > 0)
    lines.push(paint('dim', `  ${tally.fromJournal} finished in an earlier run (from the journal)`));
  if (run.requests.retries > 0 || run.requests.rateLimitPauses > 0)
    lines.push(
      paint(
        'dim',
        `  ${run.requests.retries} request retries · ${run.requests.rateLimitPauses} rate-limit pauses (429)`,
      ),
    );
  if (run.unknownColumns.length > 0) lines.push(paint('yellow', `  ignored columns: ${run.unknownColumns.join(', ')}`));
  for (const failure of tally.firstFailures)
    lines.push(
      `  ${paint(failure.outcome === 'invalid' || failure.outcome === 'rejected' || failure.outcome === 'refused' ? 'red' : 'yellow', '✗')} line ${failure.line}${failure.user_id ? ` ${failure.user_id}` : ''}: ${failure.reason}`,
    );
  const hidden = tally.retryable + tally.failed - tally.firstFailures.length;
  if (hidden > 0) lines.push(`  … and ${hidden} more${run.report ? ` (see ${run.report})` : ''}`);
  if ((run.interrupted || run.stopped) && run.inFlightAtInterrupt > 0)
    lines.push(
      paint(
        'yellow',
        `  ${run.inFlightAtInterrupt} row(s) were in flight: their jobs may still be processing at Smile ID; the journal knows each one.`,
      ),
    );
  if (run.report) lines.push(paint('dim', `  report: ${run.report}`));
  if (run.rejects)
    lines.push(
      paint('dim', `  rejects: ${run.rejects} (${run.rejectsWritten} row${run.rejectsWritten === 1 ? '' : 's'})`),
    );
  if (run.html) lines.push(paint('dim', `  html report: ${run.html}`));
  if (run.journal) lines.push(paint('dim', `  journal: ${run.journal}`));
  if (run.stopped) {
    lines.push(`${paint('red', '✗')} ${run.stopped.message}`);
    if (run.stopped.hint) lines.push(`  ${run.stopped.hint}`);
  }
  const next = nextStep(tally, run);
  if (next) lines.push(next);
  return `${lines.join('\n')}\n`;
}

/** One plain progress line per finished row (stderr without a TTY). */
export function rowLine(result: RowResult): string {
  const symbol = result.status === 'ok' ? '✓' : result.status === 'retryable' ? '…' : '✗';
  const ids = [result.jobId, typeof result.doc.smile_job_id === 'string' ? result.doc.smile_job_id : undefined]
    .filter(Boolean)
    .join(' · ');
  const code = typeof result.doc.result_code === 'string' ? ` ${result.doc.result_code}` : '';
  return `${symbol} line ${result.line}${result.userId ? ` ${result.userId}` : ''}: ${result.outcome}${code}${ids ? ` (${ids})` : ''}${result.reason && result.status !== 'ok' ? ` — ${result.reason}` : ''}${result.fromJournal ? ' [journal]' : ''}`;
}
