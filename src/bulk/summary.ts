import { ExitCode } from '../errors.js';
import type { BulkOutcome, RowResult } from './row.js';

export const BULK_OUTCOMES: readonly BulkOutcome[] = ['approved', 'submitted', 'skipped', 'checked', 'rejected', 'refused', 'invalid', 'provisional', 'pending', 'error'];

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
  readonly outcomes: Record<BulkOutcome, number> = Object.fromEntries(BULK_OUTCOMES.map((outcome) => [outcome, 0])) as Record<BulkOutcome, number>;
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
      const note: FailureNote = { line: result.line, user_id: result.userId ?? null, outcome: result.outcome, reason: result.reason ?? result.outcome };
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

export interface SummaryFacts {
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
  elapsedMs: number;
  requests: { retries: number; rateLimitPauses: number };
  unknownColumns: readonly string[];
}

/** The one JSON document of `smile bulk --json`. */
export function summaryDocument(tally: BulkTally, facts: SummaryFacts): Record<string, unknown> {
  const seconds = facts.elapsedMs / 1000;
  return {
    ok: facts.exitCode === ExitCode.ok && !facts.stopped,
    exit_code: facts.exitCode,
    dry_run: facts.dryRun,
    interrupted: facts.interrupted,
    stopped: facts.stopped !== undefined,
    ...(facts.stopped ? { error: { code: facts.stopped.code, message: facts.stopped.message, hint: facts.stopped.hint ?? null } } : {}),
    environment: facts.environment ?? null,
    input: facts.input,
    shard: facts.shard,
    rows: tally.done,
    rows_in_input: facts.rowsInInput,
    succeeded: tally.ok,
    retryable: tally.retryable,
    failed: tally.failed,
    outcomes: tally.outcomes,
    from_journal: tally.fromJournal,
    in_flight_at_interrupt: facts.inFlightAtInterrupt,
    elapsed_ms: Math.round(facts.elapsedMs),
    rows_per_second: seconds > 0 ? Math.round((tally.finishedNow / seconds) * 100) / 100 : null,
    retries: facts.requests.retries,
    rate_limit_pauses: facts.requests.rateLimitPauses,
    journal: facts.journal,
    report: facts.report,
    rejects: facts.rejects,
    first_failures: tally.firstFailures,
    next_step: nextStep(tally, facts),
  };
}

function nextStep(tally: BulkTally, facts: SummaryFacts): string | null {
  const resume = facts.resumeCommand ?? `smile bulk ${facts.input} --resume${facts.shard ? ` --shard ${facts.shard}` : ''}`;
  if (facts.stopped) return facts.journal ? `Fix the problem above, then finish with: ${resume}` : 'Fix the problem above, then run again.';
  if (facts.interrupted) return `Finish with: ${resume}`;
  if (facts.dryRun) return tally.failed > 0 ? 'Fix the invalid rows (see above), then run without --dry-run.' : 'Run again without --dry-run to send.';
  if (tally.retryable > 0) return `Some rows need a re-run: ${resume}`;
  if (tally.failed > 0) return facts.rejects ? `Fix the rows in ${facts.rejects} and run it as a new input.` : 'Pass --rejects PATH to get the failed rows as a file ready to fix and re-run.';
  return null;
}

/** The human summary (stderr). */
export function renderSummary(tally: BulkTally, facts: SummaryFacts, paint: (color: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string) => string): string {
  const lines: string[] = [];
  const seconds = facts.elapsedMs / 1000;
  const counts = BULK_OUTCOMES.filter((outcome) => tally.outcomes[outcome] > 0).map((outcome) => `${outcome} ${tally.outcomes[outcome]}`);
  const head = facts.stopped ? 'Stopped' : facts.dryRun ? 'Dry run' : facts.interrupted ? 'Interrupted' : 'Done';
  const rate = seconds > 0 && tally.finishedNow > 0 ? ` · ${(tally.finishedNow / seconds).toFixed(1)} rows/s` : '';
  lines.push(`${paint('bold', head)}: ${tally.done} row${tally.done === 1 ? '' : 's'}${facts.shard ? ` (shard ${facts.shard})` : ''} in ${seconds.toFixed(1)}s${rate}${counts.length > 0 ? ` · ${counts.join(' · ')}` : ''}`);
  if (tally.fromJournal > 0) lines.push(paint('dim', `  ${tally.fromJournal} finished in an earlier run (from the journal)`));
  if (facts.requests.retries > 0 || facts.requests.rateLimitPauses > 0) lines.push(paint('dim', `  ${facts.requests.retries} request retries · ${facts.requests.rateLimitPauses} rate-limit pauses (429)`));
  if (facts.unknownColumns.length > 0) lines.push(paint('yellow', `  ignored columns: ${facts.unknownColumns.join(', ')}`));
  for (const failure of tally.firstFailures) lines.push(`  ${paint(failure.outcome === 'invalid' || failure.outcome === 'rejected' || failure.outcome === 'refused' ? 'red' : 'yellow', '✗')} line ${failure.line}${failure.user_id ? ` ${failure.user_id}` : ''}: ${failure.reason}`);
  const hidden = tally.retryable + tally.failed - tally.firstFailures.length;
  if (hidden > 0) lines.push(`  … and ${hidden} more${facts.report ? ` (see ${facts.report})` : ''}`);
  if ((facts.interrupted || facts.stopped) && facts.inFlightAtInterrupt > 0) lines.push(paint('yellow', `  ${facts.inFlightAtInterrupt} row(s) were in flight: their jobs may still be processing at Smile ID; the journal knows each one.`));
  if (facts.report) lines.push(paint('dim', `  report: ${facts.report}`));
  if (facts.rejects) lines.push(paint('dim', `  rejects: ${facts.rejects} (${facts.rejectsWritten} row${facts.rejectsWritten === 1 ? '' : 's'})`));
  if (facts.journal) lines.push(paint('dim', `  journal: ${facts.journal}`));
  if (facts.stopped) {
    lines.push(`${paint('red', '✗')} ${facts.stopped.message}`);
    if (facts.stopped.hint) lines.push(`  ${facts.stopped.hint}`);
  }
  const next = nextStep(tally, facts);
  if (next) lines.push(next);
  return `${lines.join('\n')}\n`;
}

/** One plain progress line per finished row (stderr without a TTY). */
export function rowLine(result: RowResult): string {
  const symbol = result.status === 'ok' ? '✓' : result.status === 'retryable' ? '…' : '✗';
  const ids = [result.jobId, typeof result.doc['smile_job_id'] === 'string' ? result.doc['smile_job_id'] : undefined].filter(Boolean).join(' · ');
  const code = typeof result.doc['result_code'] === 'string' ? ` ${result.doc['result_code']}` : '';
  return `${symbol} line ${result.line}${result.userId ? ` ${result.userId}` : ''}: ${result.outcome}${code}${ids ? ` (${ids})` : ''}${result.reason && result.status !== 'ok' ? ` — ${result.reason}` : ''}${result.fromJournal ? ' [journal]' : ''}`;
}
