import { findCode } from '../smile/codes.js';
import { findFinding } from '../selfie/finding-info.js';
import { shellQuote, statusCommandFor } from '../output/shell.js';
import type { BulkOutcome, BulkRowDocument, RowResult, RowStatus } from '../bulk/row-result.js';

/**
 * One row of the HTML report: only the fields the page shows (never the raw result object, which
 * carries Smile ID's signed fields), with the reason in words and the way to fix it.
 */
export interface ReportRow {
  line: number;
  userId: string | null;
  jobId: string | null;
  smileJobId: string | null;
  outcome: BulkOutcome;
  status: RowStatus;
  /** The code the row ended with: Smile ID's result or error code, or the selfie/row check's code. */
  code: string | null;
  resultText: string | null;
  reason: string | null;
  /** What the code means and what to do, from `smile explain`'s tables. */
  explain: { title: string; meaning: string; hint: string } | null;
  /** How to fix the row: a command to run, and/or the row as the --rejects file has it. */
  fix: { command: string | null; row: string | null };
  warnings: string[];
  /** When the row finished (ms since the epoch), when known. */
  at: number | null;
  /** Finished in an earlier run of the same journal. */
  earlier: boolean;
}

/** Outcomes that need someone to look (every status but ok). */
export function needsAttention(row: Pick<ReportRow, 'status'>): boolean {
  return row.status !== 'ok';
}

/** What a code means, from the result/error table or the selfie findings; null when unknown. */
export function explainCode(code: string | null): ReportRow['explain'] {
  if (!code) return null;
  const info = findCode(code);
  if (info) return { title: info.title, meaning: info.meaning, hint: info.hint };
  const finding = findFinding(code);
  if (finding) return { title: finding.title, meaning: finding.meaning, hint: finding.hint };
  return null;
}

/** How the report is told to word the fixes of one run. */
export interface FixContext {
  /** The command that finishes the run (`smile bulk users.csv --resume …`), when there is a journal. */
  resumeCommand: string | null;
  /** The row as the --rejects file would have it (null when the input row is not known). */
  rejectRow: (result: RowResult) => string | null;
  /** The row's selfie as a path from the current directory, when known. */
  selfiePath?: (result: RowResult) => string | null;
  /** Which account the status command names (the run's own flags). */
  globals?: { profile?: string | undefined; env?: string | undefined; baseUrl?: string | undefined };
}

const WAITING: readonly BulkOutcome[] = ['pending', 'provisional', 'submitted'];

/**
 * The way to fix a row: a job that is not final is followed with `smile status … --wait`; any
 * other row a re-run can finish, with the run's resume command; a row that failed for good, with
 * its row (fixed and run as a new input, as with --rejects) and `smile explain CODE`, or for 2209
 * the registration again with --allow-re-enroll.
 */
export function fixFor(result: RowResult, context: FixContext): ReportRow['fix'] {
  if (result.status === 'ok') return { command: null, row: null };
  const doc = result.doc;
  const userId = result.userId ?? doc.user_id;
  const jobId = result.jobId ?? doc.job_id;
  if (result.status === 'retryable') {
    if (WAITING.includes(result.outcome) && userId && jobId)
      return { command: statusCommandFor(userId, jobId, context.globals ?? {}), row: null };
    return { command: context.resumeCommand, row: null };
  }
  const row = context.rejectRow(result);
  const code = doc.error_code ?? doc.result_code;
  const selfie = context.selfiePath?.(result) ?? null;
  if (code === '2209' && userId && selfie)
    return {
      command: `smile register --user-id ${shellQuote(userId)} --selfie ${shellQuote(selfie)} --allow-re-enroll`,
      row,
    };
  return { command: code && explainCode(code) ? `smile explain ${shellQuote(code)}` : null, row };
}

/** The report row of a finished bulk row. */
export function reportRowOf(
  result: RowResult,
  context: FixContext,
  timing: { at: number | null } = { at: null },
): ReportRow {
  const doc: BulkRowDocument = result.doc;
  const code = doc.error_code ?? doc.result_code ?? null;
  return {
    line: result.line,
    userId: result.userId ?? doc.user_id ?? null,
    jobId: result.jobId ?? doc.job_id ?? null,
    smileJobId: typeof doc.smile_job_id === 'string' ? doc.smile_job_id : null,
    outcome: result.outcome,
    status: result.status,
    code,
    resultText: typeof doc.result_text === 'string' ? doc.result_text : null,
    reason: result.reason ?? (typeof doc.reason === 'string' ? doc.reason : null),
    explain: result.status === 'ok' ? null : explainCode(code),
    fix: fixFor(result, context),
    warnings: Array.isArray(doc.warnings) ? doc.warnings.filter((item) => typeof item === 'string') : [],
    at: timing.at,
    earlier: result.fromJournal,
  };
}
