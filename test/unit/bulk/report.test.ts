import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsvParser } from '../../../src/bulk/csv.js';
import { RejectsWriter, ReportWriter, rebasePath, reportFormatOf } from '../../../src/bulk/report.js';
import type { RowResult } from '../../../src/bulk/row-result.js';
import { rowDocument } from '../../../src/bulk/row-result.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-report-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function result(overrides: Partial<RowResult> & Pick<RowResult, 'line' | 'outcome' | 'status'>): RowResult {
  const base = {
    userId: 'u1',
    jobId: 'job-1',
    reason: undefined,
    raw: [] as string[],
    fromJournal: false,
    ...overrides,
  };
  return {
    ...base,
    doc: rowDocument({
      line: base.line,
      outcome: base.outcome,
      status: base.status,
      environment: 'sandbox',
      userId: base.userId,
      jobId: base.jobId,
      smileJobId: undefined,
      jobStatus: undefined,
      reason: base.reason,
    }),
  };
}

function parseCsv(text: string): string[][] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()].map((record) => record.fields);
}

describe('report', () => {
  it('picks the format by extension', () => {
    expect(reportFormatOf('r.csv', '--report')).toBe('csv');
    expect(reportFormatOf('r.JSONL', '--report')).toBe('jsonl');
    expect(() => reportFormatOf('r.xlsx', '--report')).toThrow(/\.csv or \.jsonl/);
  });

  it('writes a CSV report whose cells cannot run as spreadsheet formulas', async () => {
    const path = join(dir, 'report.csv');
    const report = new ReportWriter(path);
    report.write(result({ line: 2, userId: '=HYPERLINK("http://evil","x")', outcome: 'approved', status: 'ok' }));
    report.write(
      result({ line: 3, userId: '@SUM(1+1)', outcome: 'invalid', status: 'failed', reason: '+cmd|/C calc' }),
    );
    report.close();
    const text = await readFile(path, 'utf8');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([
      'line',
      'user_id',
      'job_id',
      'smile_job_id',
      'outcome',
      'ok',
      'retryable',
      'result_code',
      'result_text',
      'reason',
      'error_code',
      'warnings',
    ]);
    expect(rows[1]![1]).toBe(`'=HYPERLINK("http://evil","x")`);
    expect(rows[2]![1]).toBe(`'@SUM(1+1)`);
    expect(rows[2]![9]).toBe(`'+cmd|/C calc`);
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+@\t\r]|^-[^\d]/);
  });

  it('writes JSONL report lines as the full document', async () => {
    const path = join(dir, 'report.jsonl');
    const report = new ReportWriter(path);
    report.write(result({ line: 2, outcome: 'approved', status: 'ok' }));
    report.close();
    const line = JSON.parse((await readFile(path, 'utf8')).trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      line: 2,
      ok: true,
      outcome: 'approved',
      environment: 'sandbox',
      user_id: 'u1',
      job_id: 'job-1',
      retryable: false,
    });
  });
});

describe('rejects', () => {
  it('re-points relative paths from the input directory to the rejects directory', () => {
    expect(rebasePath('photos/a.jpg', '/data/in', '/data/out')).toBe('../in/photos/a.jpg');
    expect(rebasePath('/abs/a.jpg', '/data/in', '/data/out')).toBe('/abs/a.jpg');
    expect(rebasePath('a.jpg', '/data/in', '/data/in')).toBe('a.jpg');
  });

  it('writes failed CSV rows in the input format plus reason; a retryable row keeps its job_id', async () => {
    const path = join(dir, 'out', 'rejects.csv');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'out')));
    const rejects = new RejectsWriter(path, {
      format: 'csv',
      columns: ['user_id', 'selfie', 'liveness', 'latitude'],
      inputDir: join(dir, 'in'),
    });
    rejects.write(result({ line: 2, outcome: 'approved', status: 'ok', raw: ['ok', 'a.jpg', '', ''] }));
    rejects.write(
      result({
        line: 3,
        userId: 'u3',
        outcome: 'rejected',
        status: 'failed',
        reason: 'rejected: 0813',
        raw: ['u3', 'p/a.jpg', 'p/l1.jpg;p/l2.jpg', '-1.5'],
      }),
    );
    rejects.write(
      result({
        line: 4,
        userId: 'u4',
        jobId: 'job-4',
        outcome: 'error',
        status: 'retryable',
        reason: 'HTTP 503',
        raw: ['u4', 'p/b.jpg', '', ''],
      }),
    );
    rejects.close();
    expect(rejects.count).toBe(2);
    const rows = parseCsv(await readFile(path, 'utf8'));
    expect(rows).toEqual([
      ['user_id', 'selfie', 'liveness', 'latitude', 'job_id', 'reason'],
      ['u3', '../in/p/a.jpg', '../in/p/l1.jpg;../in/p/l2.jpg', '-1.5', '', 'rejected: 0813'],
      ['u4', '../in/p/b.jpg', '', '', 'job-4', 'HTTP 503'],
    ]);
  });

  it('replaces the reason of a rejects file used as input instead of adding a second column', async () => {
    const path = join(dir, 'again.csv');
    const rejects = new RejectsWriter(path, { format: 'csv', columns: ['user_id', 'selfie', 'reason'], inputDir: dir });
    rejects.write(
      result({
        line: 2,
        outcome: 'refused',
        status: 'failed',
        reason: 'new reason',
        raw: ['u1', 'a.jpg', 'old reason'],
      }),
    );
    rejects.close();
    expect(parseCsv(await readFile(path, 'utf8'))).toEqual([
      ['user_id', 'selfie', 'reason', 'job_id'],
      ['u1', 'a.jpg', 'new reason', ''],
    ]);
  });

  it('writes failed JSONL rows as the original object plus reason', async () => {
    const path = join(dir, 'out.jsonl');
    const rejects = new RejectsWriter(path, { format: 'jsonl', columns: undefined, inputDir: join(dir, 'in') });
    rejects.write(
      result({
        line: 1,
        outcome: 'invalid',
        status: 'failed',
        reason: 'bad',
        raw: { user_id: 'u1', selfie: 'a.jpg', liveness: ['l.jpg'], params: { b: 'x' } },
      }),
    );
    rejects.write(result({ line: 2, outcome: 'invalid', status: 'failed', reason: 'not JSON', raw: '{oops' }));
    rejects.close();
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toEqual([
      { user_id: 'u1', selfie: 'in/a.jpg', liveness: ['in/l.jpg'], params: { b: 'x' }, reason: 'bad' },
      { _unparsed: '{oops', reason: 'not JSON' },
    ]);
  });
});
