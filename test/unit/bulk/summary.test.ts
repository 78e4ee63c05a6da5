import { describe, expect, it } from 'vitest';
import { rowDocument } from '../../../src/bulk/row-result.js';
import type { BulkOutcome, RowResult, RowStatus } from '../../../src/bulk/row-result.js';
import { BulkTally, bulkExitCode, renderSummary, summaryDocument } from '../../../src/bulk/summary.js';
import type { FinishedRun } from '../../../src/bulk/summary.js';

function row(line: number, outcome: BulkOutcome, status: RowStatus): RowResult {
  const reason = status === 'ok' ? undefined : `why ${line}`;
  const doc = rowDocument({
    line,
    outcome,
    status,
    environment: 'sandbox',
    userId: `u${line}`,
    jobId: undefined,
    smileJobId: undefined,
    jobStatus: undefined,
    reason,
  });
  return { line, userId: `u${line}`, jobId: undefined, outcome, status, reason, doc, raw: [], fromJournal: false };
}

function tally(...rows: [BulkOutcome, RowStatus][]): BulkTally {
  const t = new BulkTally();
  rows.forEach(([outcome, status], index) => t.add(row(index + 2, outcome, status)));
  return t;
}

describe('bulk exit codes', () => {
  const base = { interrupted: false, rowsInInput: 3 };
  it('0 when every row is approved, skipped as asked, or submitted', () => {
    expect(bulkExitCode(tally(['approved', 'ok'], ['skipped', 'ok'], ['submitted', 'ok']), base)).toBe(0);
  });
  it('6 when some rows failed for good', () => {
    expect(bulkExitCode(tally(['approved', 'ok'], ['rejected', 'failed']), base)).toBe(6);
    expect(bulkExitCode(tally(['approved', 'ok'], ['invalid', 'failed']), base)).toBe(6);
  });
  it('5 when some rows need a re-run, even beside failures for good', () => {
    expect(bulkExitCode(tally(['approved', 'ok'], ['pending', 'retryable']), base)).toBe(5);
    expect(bulkExitCode(tally(['rejected', 'failed'], ['error', 'retryable']), base)).toBe(5);
  });
  it('4 when nothing was usable: every row invalid, or no rows', () => {
    expect(bulkExitCode(tally(['invalid', 'failed'], ['invalid', 'failed']), base)).toBe(4);
    expect(bulkExitCode(new BulkTally(), { interrupted: false, rowsInInput: 0 })).toBe(4);
  });
  it('130 when interrupted', () => {
    expect(bulkExitCode(tally(['approved', 'ok']), { interrupted: true, rowsInInput: 3 })).toBe(130);
  });
});

describe('summary', () => {
  const finished: FinishedRun = {
    exitCode: 6,
    interrupted: false,
    inFlightAtInterrupt: 0,
    dryRun: false,
    wait: true,
    environment: 'sandbox',
    input: 'users.csv',
    shard: null,
    rowsInInput: 3,
    journal: '/j',
    report: null,
    rejects: null,
    rejectsWritten: 0,
    elapsedMs: 2000,
    requests: { retries: 3, rateLimitPauses: 1 },
    unknownColumns: [],
  };

  it('is one JSON document with counts, paths and the next step', () => {
    const t = tally(['approved', 'ok'], ['approved', 'ok'], ['rejected', 'failed']);
    const doc = summaryDocument(t, finished);
    expect(doc).toMatchObject({
      ok: false,
      exit_code: 6,
      rows: 3,
      succeeded: 2,
      failed: 1,
      retryable: 0,
      rows_per_second: 1.5,
      retries: 3,
      rate_limit_pauses: 1,
      journal: '/j',
    });
    expect((doc['outcomes'] as Record<string, number>)['approved']).toBe(2);
    expect(doc['first_failures']).toEqual([{ line: 4, user_id: 'u4', outcome: 'rejected', reason: 'why 4' }]);
    expect(doc['next_step']).toMatch(/--rejects/);
  });

  it('keeps only the first and the latest failures (memory stays flat)', () => {
    const t = new BulkTally();
    for (let i = 0; i < 1000; i++) t.add(row(i + 2, 'invalid', 'failed'));
    expect(t.firstFailures).toHaveLength(BulkTally.KEEP_FIRST);
    expect(t.recentFailures).toHaveLength(BulkTally.KEEP_RECENT);
    expect(t.recentFailures.at(-1)!.line).toBe(1001);
  });

  it('renders a human summary that names --resume when rows need a re-run', () => {
    const text = renderSummary(
      tally(['approved', 'ok'], ['error', 'retryable']),
      { ...finished, exitCode: 5 },
      (_colour, value) => value,
    );
    expect(text).toMatch(/Done: 2 rows in 2\.0s/);
    expect(text).toMatch(/approved 1 · error 1/);
    expect(text).toMatch(/smile bulk users\.csv --resume/);
  });

  it('a run stopped by an error says "Stopped", shows the error and the resume command, and is not ok', () => {
    const stopped = {
      ...finished,
      exitCode: 3,
      stopped: {
        code: 'bad_signature',
        message: 'The job status answer is not signed with your API key.',
        hint: 'Check the proxy.',
      },
      resumeCommand: '… | smile bulk - --resume',
      inFlightAtInterrupt: 2,
    };
    const text = renderSummary(tally(['approved', 'ok']), stopped, (_colour, value) => value);
    expect(text).toMatch(/^Stopped: 1 row/);
    expect(text).not.toMatch(/Interrupted/);
    expect(text).toMatch(/2 row\(s\) were in flight/);
    expect(text).toMatch(
      /✗ The job status answer is not signed.*\n {2}Check the proxy\.\nFix the problem above, then finish with: … \| smile bulk - --resume\n$/,
    );
    const doc = summaryDocument(tally(['approved', 'ok']), stopped);
    expect(doc).toMatchObject({
      ok: false,
      exit_code: 3,
      interrupted: false,
      stopped: true,
      error: { code: 'bad_signature', hint: 'Check the proxy.' },
    });
    expect(doc['next_step']).toMatch(/\| smile bulk - --resume$/);
  });
});
