// The HTML report at 1,000 and 10,000 rows: `smile report` builds it from a bulk journal and
// --report file shaped like a real run's (1 % rejected, 0.5 % invalid, 0.3 % provisional; selfie
// thumbnails on), then headless chromium opens it from file://. Prints the file size, bytes per row,
// the build time and the time to open (load event, and first paint of the rendered page), beside the
// issue's target (a 10,000-row report opens in under 2 s). Needs dist/ and Debian's chromium.
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, run } from './lib.mjs';

const SIZES = (process.env.REPORT_ROWS ?? '1000,10000').split(',').map(Number);
const CHROMIUM = process.env.SMILE_CHROMIUM ?? '/usr/bin/chromium';
const OPEN_TARGET_MS = 2000;
/** Evaluated in the page (a string: the browser's globals are not this file's). */
const TWO_FRAMES = 'new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))';

function outcomeOf(index) {
  if (index % 100 === 7) return 'rejected';
  if (index % 200 === 11) return 'invalid';
  if (index % 300 === 13) return 'provisional';
  return 'approved';
}

/** users.csv, its journal and a JSONL report, as `smile bulk users.csv --report report.jsonl` leaves them. */
function writeRun(dir, rows) {
  mkdirSync(join(dir, 'photos'));
  copyFileSync(join(root, 'fixtures/selfies/demo.jpg'), join(dir, 'photos/face.jpg'));
  const input = ['user_id,selfie,sandbox_result'];
  const journal = [
    JSON.stringify({
      t: 'run',
      v: 1,
      input: { name: 'users.csv', format: 'csv', kind: 'sha256', value: '0'.repeat(64) },
      shard: null,
      started_at: new Date(Date.now() - rows * 50).toISOString(),
      partner_id: '085',
      environment: 'sandbox',
    }),
  ];
  const report = [];
  const start = Date.now() - rows * 50;
  for (let index = 1; index <= rows; index++) {
    const line = index + 1;
    const userId = `user-${String(index).padStart(6, '0')}`;
    const jobId = `job-${randomUUID()}`;
    const outcome = outcomeOf(index);
    input.push(`${userId},photos/face.jpg,${outcome === 'rejected' ? 'reject' : 'approve'}`);
    const code = { approved: '0840', rejected: '0841', provisional: '0814' }[outcome];
    const doc = {
      line,
      ok: outcome === 'approved',
      outcome,
      environment: 'sandbox',
      user_id: userId,
      job_id: outcome === 'invalid' ? null : jobId,
      smile_job_id: outcome === 'invalid' ? null : String(index).padStart(10, '0'),
      result_code: code ?? null,
      result_text: code ? 'Enroll User' : null,
      actions: {},
      job_complete: outcome !== 'invalid',
      job_success: outcome === 'approved',
      result: null,
      retryable: outcome === 'provisional',
      reason: outcome === 'approved' ? null : outcome === 'invalid' ? 'photos/face.jpg: no human face' : outcome,
      error_code: outcome === 'invalid' ? 'no_face' : null,
      warnings: [],
    };
    report.push(JSON.stringify(doc));
    if (outcome === 'invalid') continue;
    journal.push(JSON.stringify({ t: 'pin', line, user_id: userId, job_id: jobId }));
    journal.push(JSON.stringify({ t: 'prepared', line, smile_job_id: doc.smile_job_id }));
    journal.push(JSON.stringify({ t: 'uploaded', line }));
    journal.push(
      JSON.stringify({
        t: 'final',
        line,
        done: outcome !== 'provisional',
        outcome,
        doc,
        at: new Date(start + index * 50).toISOString(),
      }),
    );
  }
  writeFileSync(join(dir, 'users.csv'), `${input.join('\n')}\n`);
  writeFileSync(join(dir, 'users.csv.smile-journal.jsonl'), `${journal.join('\n')}\n`);
  writeFileSync(join(dir, 'report.jsonl'), `${report.join('\n')}\n`);
}

async function openInChromium(browser, path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(path).href;
  const started = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  const loaded = performance.now() - started;
  // Rendered: two animation frames after load, the page laid out and painted.
  await page.evaluate(TWO_FRAMES);
  const rendered = performance.now() - started;
  const paint = await page.evaluate(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
  );
  const navigation = await page.evaluate(() => {
    const entry = performance.getEntriesByType('navigation')[0];
    return { parsed: entry.domInteractive, dcl: entry.domContentLoadedEventEnd, load: entry.loadEventEnd };
  });
  if (process.env.REPORT_DEBUG) console.log(navigation);
  // One search over every row (the first keystroke also reads every user id once).
  const searchStarted = performance.now();
  await page.fill('#search', 'user-000042');
  await page.evaluate(TWO_FRAMES);
  const search = performance.now() - searchStarted;
  await page.close();
  return { loaded, rendered, paint, search };
}

if (!existsSync(CHROMIUM)) {
  console.log(`report: skipped, no chromium at ${CHROMIUM} (apt-get install chromium, or SMILE_CHROMIUM=PATH)`);
  process.exit(0);
}
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
console.log(
  `HTML report: smile report → headless chromium (target: ${SIZES.at(-1)} rows open in < ${OPEN_TARGET_MS} ms)`,
);
console.log(
  `(load average ${loadavg()[0].toFixed(1)} on this machine when it started: times on a busy machine are longer)`,
);
console.log('rows      file size   bytes/row  build ms  load ms  rendered ms  first paint ms  search ms');
try {
  for (const rows of SIZES) {
    const dir = mkdtempSync(join(tmpdir(), 'smile-bench-report-'));
    try {
      writeRun(dir, rows);
      const html = join(dir, 'report.html');
      const build = await run([
        'bin/smile.js',
        'report',
        join(dir, 'users.csv.smile-journal.jsonl'),
        '--report',
        join(dir, 'report.jsonl'),
        '--html',
        html,
        ...(process.env.REPORT_THUMBNAILS === '0' ? [] : ['--html-thumbnails']),
        '--json',
      ]);
      if (build.code !== 0) throw new Error(`smile report exited ${build.code}: ${build.err}`);
      const bytes = statSync(html).size;
      if (process.env.REPORT_KEEP) copyFileSync(html, join(process.env.REPORT_KEEP, `report-${rows}.html`));
      // Once to warm chromium's caches and code, then the figure.
      await openInChromium(browser, html);
      const open = await openInChromium(browser, html);
      console.log(
        [
          String(rows).padEnd(8),
          `${(bytes / 1024 / 1024).toFixed(2)} MB`.padStart(11),
          String(Math.round(bytes / rows)).padStart(11),
          String(Math.round(build.ms)).padStart(9),
          String(Math.round(open.loaded)).padStart(8),
          String(Math.round(open.rendered)).padStart(12),
          String(Math.round(open.paint)).padStart(15),
          String(Math.round(open.search)).padStart(10),
        ].join(' '),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}
