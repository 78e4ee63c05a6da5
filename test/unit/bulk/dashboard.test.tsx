import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { BulkSnapshot } from '../../../src/bulk/progress.js';
import { BulkDashboard } from '../../../src/ui/bulk-dashboard.js';

// eslint-disable-next-line no-control-regex
const strip = (text: string | undefined) => (text ?? '').replace(/\u001b\[[0-9;]*m/g, '');

function snapshot(overrides: Partial<BulkSnapshot> = {}): BulkSnapshot {
  return {
    total: 200,
    done: 50,
    ok: 45,
    retryable: 2,
    failed: 3,
    outcomes: {
      approved: 45,
      submitted: 0,
      skipped: 0,
      checked: 0,
      rejected: 3,
      refused: 0,
      invalid: 0,
      provisional: 0,
      pending: 2,
      error: 0,
    },
    fromJournal: 0,
    elapsedMs: 10_000,
    rate: 5,
    etaSeconds: 30,
    submitting: 4,
    waiting: 12,
    paused: false,
    retries: 3,
    rateLimitPauses: 0,
    recentFailures: [{ line: 7, user_id: 'u-7', outcome: 'rejected', reason: 'rejected: 0813 Enroll User FAIL' }],
    environment: 'sandbox',
    dryRun: false,
    ...overrides,
  };
}

describe('BulkDashboard', () => {
  it('shows progress, pace, ETA, outcome counts, workers and recent failures', () => {
    const { lastFrame } = render(<BulkDashboard snapshot={snapshot()} />);
    const frame = strip(lastFrame());
    expect(frame).toContain('50/200 25%');
    expect(frame).toContain('5.0 rows/s');
    expect(frame).toContain('ETA 30s');
    expect(frame).toContain('approved 45 · rejected 3 · pending 2');
    expect(frame).toContain('submitting 4 · waiting for results 12 · 3 retries');
    expect(frame).toContain('line 7 u-7: rejected: 0813 Enroll User FAIL');
  });

  it('says when every worker is paused by a 429, and copes with an unknown total (stdin)', () => {
    const { lastFrame } = render(
      <BulkDashboard
        snapshot={snapshot({
          paused: true,
          total: undefined,
          etaSeconds: undefined,
          rateLimitPauses: 2,
          recentFailures: [],
        })}
      />,
    );
    const frame = strip(lastFrame());
    expect(frame).toContain('rate limited (429)');
    expect(frame).toContain('2 rate-limit pauses');
    expect(frame).toContain('ETA –');
    expect(frame).not.toContain('recent failures');
  });
});
