import { registrationDocument } from '../register/document.js';
import type { RegistrationDocument } from '../register/document.js';
import type { Environment } from '../config/validate.js';
import type { Outcome } from '../smile/outcome.js';
import type { JobStatusResponse } from '../smile/types.js';
import type { InputRecord } from './input.js';

/**
 * A bulk row's outcome: the six of product.md, plus `skipped` (2209 with `--if-enrolled skip`),
 * `refused` (the API refused the request: 2209 with `fail`, 2207, 2215 …), `invalid` (the row or
 * its selfie failed the checks; nothing was sent) and `checked` (`--dry-run`: would be sent).
 */
export type BulkOutcome = Outcome | 'skipped' | 'refused' | 'invalid' | 'checked';

/** ok: done as asked · retryable: a re-run (--resume) can finish it · failed: failed for good. */
export type RowStatus = 'ok' | 'retryable' | 'failed';

/**
 * The document of one row: a line of a JSONL `--report`, the source of a CSV report's cells, and
 * what a journal's final record keeps. product.md's registration document plus the bulk fields;
 * `outcome` takes the bulk outcomes too, and `user_id`/`job_id` are null when the row has none
 * (an unreadable row, a row that never got a job id).
 */
export interface BulkRowDocument extends Omit<RegistrationDocument, 'outcome' | 'user_id' | 'job_id' | 'expected'> {
  /** The row's line in the input (CSV: the header is line 1). */
  line: number;
  outcome: BulkOutcome;
  user_id: string | null;
  job_id: string | null;
  retryable: boolean;
  reason: string | null;
  error_code: string | null;
  /** Codes of the selfie checks' warnings. */
  warnings: string[];
}

/** One finished row, as the report, the rejects file, the summary and the progress see it. */
export interface RowResult {
  line: number;
  userId: string | undefined;
  jobId: string | undefined;
  outcome: BulkOutcome;
  status: RowStatus;
  reason: string | undefined;
  doc: BulkRowDocument;
  raw: InputRecord['raw'];
  /** Finished in an earlier run (read back from the journal). */
  fromJournal: boolean;
}

/** What a row's document is made of. */
export interface RowDocumentSource {
  line: number;
  outcome: BulkOutcome;
  status: RowStatus;
  environment: Environment;
  userId: string | undefined;
  jobId: string | undefined;
  smileJobId: string | undefined;
  jobStatus: JobStatusResponse | undefined;
  reason: string | undefined;
  errorCode?: string | undefined;
  warnings?: readonly string[];
  /** Liveness frames sent with the row's job (rows that sent one). */
  livenessFrames?: number | undefined;
}

/** The document of a row: registrationDocument (product.md) plus the bulk fields. */
export function rowDocument(fields: RowDocumentSource): BulkRowDocument {
  const base = registrationDocument({
    outcome:
      fields.outcome === 'skipped' ||
      fields.outcome === 'refused' ||
      fields.outcome === 'invalid' ||
      fields.outcome === 'checked'
        ? 'error'
        : fields.outcome,
    environment: fields.environment,
    userId: fields.userId ?? '',
    jobId: fields.jobId ?? '',
    smileJobId: fields.smileJobId,
    status: fields.jobStatus,
    livenessFrames: fields.livenessFrames,
  });
  return {
    line: fields.line,
    ...base,
    ok: fields.status === 'ok',
    outcome: fields.outcome,
    user_id: fields.userId ?? null,
    job_id: fields.jobId ?? null,
    retryable: fields.status === 'retryable',
    reason: fields.reason ?? null,
    error_code: fields.errorCode ?? null,
    warnings: [...new Set(fields.warnings ?? [])],
  };
}
