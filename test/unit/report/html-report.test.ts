import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowDocument } from '../../../src/bulk/row-result.js';
import type { BulkOutcome, RowResult, RowStatus } from '../../../src/bulk/row-result.js';
import { HtmlReportBuilder, OPEN_ALL_ROWS } from '../../../src/report/html-report.js';
import type { ReportMeta } from '../../../src/report/html-report.js';
import { PAGE_SCRIPT, chartSvg, contentSecurityPolicy, escapeHtml } from '../../../src/report/page.js';
import { explainCode, fixFor, reportRowOf } from '../../../src/report/rows.js';
import type { FixContext } from '../../../src/report/rows.js';
import { THUMBNAIL_SIZE, thumbnailDataUri } from '../../../src/report/thumbnails.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const EXIF_SELFIE = resolve('fixtures/selfies/selfie-with-exif.jpg');
const FACE = resolve('fixtures/selfies/demo.jpg');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-html-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function result(line: number, outcome: BulkOutcome, status: RowStatus, more: Partial<RowResult> = {}): RowResult {
  const userId = more.userId ?? `u-${line}`;
  return {
    line,
    userId,
    jobId: `job-${line}`,
    outcome,
    status,
    reason: more.reason,
    raw: more.raw ?? [userId, 'photos/face.jpg'],
    fromJournal: false,
    doc: rowDocument({
      line,
      outcome,
      status,
      environment: 'sandbox',
      userId,
      jobId: `job-${line}`,
      smileJobId: undefined,
      jobStatus: undefined,
      reason: more.reason,
      errorCode: (more as { errorCode?: string }).errorCode,
    }),
    ...more,
  };
}

const fix: FixContext = {
  resumeCommand: 'smile bulk users.csv --resume',
  rejectRow: (r) => `${Array.isArray(r.raw) ? r.raw.join(',') : ''},${r.reason ?? ''}\r\n`,
  selfiePath: () => 'photos/face.jpg',
};

const meta: ReportMeta = {
  input: 'users.csv',
  environment: 'sandbox',
  partnerId: '085',
  shard: null,
  state: 'attention',
  exitCode: 6,
  startedAt: Date.UTC(2026, 0, 1, 10, 0, 0),
  finishedAt: Date.UTC(2026, 0, 1, 10, 1, 0),
  elapsedMs: 60_000,
  rowsPerSecond: 0.1,
  rowsInInput: 6,
  retries: 3,
  rateLimitPauses: 1,
  resumes: [],
  journal: '/tmp/users.csv.smile-journal.jsonl',
  stopped: null,
  nextStep: 'Fix the rows',
  source: 'a test',
};

describe('escapeHtml', () => {
  it('escapes markup and quotes, and shows control characters instead of passing them', () => {
    expect(escapeHtml(HOSTILE)).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(escapeHtml(`"a" & 'b'`)).toBe('&quot;a&quot; &amp; &#39;b&#39;');
    const shown = escapeHtml('a\u001b[31mb\nc');
    expect(shown).not.toContain('\u001b');
    expect(shown).not.toContain('\n');
  });
});

describe('the page parts', () => {
  it("allows only the page's own script by its hash, and images only as data: URIs", () => {
    const hash = createHash('sha256').update(PAGE_SCRIPT).digest('base64');
    const csp = contentSecurityPolicy(PAGE_SCRIPT);
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('img-src data:');
  });

  it('draws one stacked bar per interval with the count of each outcome, and says when there are no timings', () => {
    const times = new Float64Array([0, 500, 1500, 1600, 1700].map((ms) => Date.UTC(2026, 0, 1) + ms));
    const svg = chartSvg({
      times,
      outcomes: new Uint8Array([0, 0, 4, 0, 4]),
      count: 5,
      outcomeNames: ['approved', 'submitted', 'skipped', 'checked', 'rejected'],
      resumes: [],
    });
    expect(svg.match(/<rect /g)?.length).toBe(3);
    expect(svg).toContain('00:00:00 · approved 2');
    expect(svg).toContain('00:00:01 · rejected 2');
    expect(svg).toContain('one bar = 1 s');
    expect(chartSvg({ times, outcomes: new Uint8Array(5), count: 0, outcomeNames: ['approved'], resumes: [] })).toMatch(
      /No timings/,
    );
  });
});

describe('report rows', () => {
  it('explains result codes and selfie findings in words, from the explain tables', () => {
    expect(explainCode('2209')?.title).toMatch(/enrolled/i);
    expect(explainCode('no_face')?.title).toBe('No human face');
    expect(explainCode('nonsense')).toBeNull();
  });

  it('fixes a pending row with smile status, a retryable one with the resume command, a failed one with its row', () => {
    const pending = fixFor(result(2, 'pending', 'retryable'), fix);
    expect(pending.command).toBe('smile status --user-id u-2 --job-id job-2 --wait');
    expect(fixFor(result(3, 'error', 'retryable'), fix).command).toBe('smile bulk users.csv --resume');
    const invalid = fixFor(result(4, 'invalid', 'failed', { reason: 'no face', errorCode: 'no_face' } as never), fix);
    expect(invalid.row).toBe('u-4,photos/face.jpg,no face\r\n');
    expect(invalid.command).toBe('smile explain no_face');
    const enrolled = fixFor(result(5, 'refused', 'failed', { errorCode: '2209' } as never), fix);
    expect(enrolled.command).toBe('smile register --user-id u-5 --selfie photos/face.jpg --allow-re-enroll');
    expect(fixFor(result(6, 'approved', 'ok'), fix)).toEqual({ command: null, row: null });
  });
});

describe('HtmlReportBuilder', () => {
  it('writes one page in input order, escapes everything from input, and carries no raw result', async () => {
    const path = join(dir, 'report.html');
    const builder = new HtmlReportBuilder(path, { thumbnails: null });
    const rows = [
      result(5, 'approved', 'ok'),
      result(3, 'invalid', 'failed', { userId: HOSTILE, reason: `selfie ${HOSTILE}: no such file` }),
      result(2, 'approved', 'ok'),
      result(4, 'rejected', 'failed', { reason: 'rejected: 0841 Enroll User FAIL' }),
    ];
    for (const row of rows) builder.add(reportRowOf(row, fix, { at: Date.UTC(2026, 0, 1, 10, 0, row.line) }));
    await builder.finish(meta);
    const html = await readFile(path, 'utf8');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/signature/i);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:|\/\/)/i);
    const lines = [...html.matchAll(/<tr data-o="\w+" data-t="all"[^>]*><td class="n">(\d+)</g)].map((m) => m[1]);
    expect(lines).toEqual(['2', '3', '4', '5']);
    const attention = [...html.matchAll(/data-t="attention" data-a><td class="n">(\d+)</g)].map((m) => m[1]);
    expect(attention).toEqual(['3', '4']);
    expect(html).toContain('Needs attention (2)');
    expect(html).toContain('data-count="approved"><b>2</b>');
    expect(html).toContain('No selfie thumbnails in this page');
    // Nothing left beside it: the temporary file was renamed, the spools removed.
    expect(await readdir(dir)).toEqual(['report.html']);
  });

  it('embeds thumbnails only for rows that need attention, at most the cap, in input order, and says so', async () => {
    const path = join(dir, 'report.html');
    const builder = new HtmlReportBuilder(path, { thumbnails: { cap: 2 } });
    for (const line of [9, 2, 7, 4, 3])
      builder.add(
        reportRowOf(result(line, line === 3 ? 'approved' : 'rejected', line === 3 ? 'ok' : 'failed'), fix),
        FACE,
      );
    await builder.finish(meta);
    const html = await readFile(path, 'utf8');
    const images = [...html.matchAll(/<img src="data:image\/jpeg;base64,[^"]+" alt="selfie of line (\d+)"/g)].map(
      (m) => m[1],
    );
    expect(images).toEqual(['2', '4']);
    expect(html).toContain('2 of 4 row(s) with a selfie; capped at the first 2 rows in input order');
  });

  it('folds the All rows table above OPEN_ALL_ROWS rows (a huge table is slow to lay out), open below', async () => {
    for (const [rows, open] of [
      [OPEN_ALL_ROWS, true],
      [OPEN_ALL_ROWS + 1, false],
    ] as const) {
      const path = join(dir, `report-${rows}.html`);
      const builder = new HtmlReportBuilder(path, { thumbnails: null });
      for (let line = 2; line < rows + 2; line++) builder.add(reportRowOf(result(line, 'approved', 'ok'), fix));
      await builder.finish(meta);
      const html = await readFile(path, 'utf8');
      expect(html).toContain(open ? '<details id="all-rows" open>' : '<details id="all-rows">');
      expect(html.match(/data-t="all"/g)?.length).toBe(rows);
    }
    // The script opens it for a filter or a search.
    expect(PAGE_SCRIPT).toContain("getElementById('all-rows').open=true");
  });

  it('fails naming the file when it cannot be written, and leaves the target as it was', () => {
    expect(() => new HtmlReportBuilder(join(dir, 'missing', 'r.html'), { thumbnails: null })).toThrow(
      /The HTML report .*missing\/r\.html cannot be written: its directory does not exist/,
    );
  });
});

describe('thumbnailDataUri', () => {
  it('makes a small JPEG without any metadata (no EXIF, GPS or ICC) from a photo that has some', async () => {
    expect((await sharp(EXIF_SELFIE).metadata()).exif).toBeDefined();
    const uri = await thumbnailDataUri(EXIF_SELFIE);
    expect(uri).toMatch(/^data:image\/jpeg;base64,/);
    const jpeg = Buffer.from(uri!.split(',')[1]!, 'base64');
    const info = await sharp(jpeg).metadata();
    expect(Math.max(info.width, info.height)).toBeLessThanOrEqual(THUMBNAIL_SIZE);
    expect(info.exif).toBeUndefined();
    expect(info.icc).toBeUndefined();
    expect(info.xmp).toBeUndefined();
    expect(jpeg.length).toBeLessThan(8 * 1024);
  });

  it('gives nothing for a file that is not an image or not there', async () => {
    expect(await thumbnailDataUri(resolve('fixtures/bad/document.pdf'))).toBeUndefined();
    expect(await thumbnailDataUri(join(dir, 'missing.jpg'))).toBeUndefined();
  });
});
