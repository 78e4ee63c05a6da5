/**
 * Issue 16: the HTML report of a realistic bulk run (a few hundred rows against the emulator:
 * real fixture faces, rejections and provisional results from sandbox_result, invalid photos, users
 * already enrolled, a few errors injected by the emulator; thumbnails on), opened from file:// in
 * Debian's headless chromium: every request stays in the file, no script error or CSP violation,
 * the counts and the rows to fix read right, filter and search work, the hostile user id stays
 * text. A PNG is kept: SMILE_REPORT_SCREENSHOT=PATH (docs/report.png was made so), else in the
 * temp dir. Without chromium it skips and says why; SMILE_REQUIRE_BROWSER=1 makes that a failure.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { BROWSER_REQUIRED, chromiumUnavailableReason, launchHeadless } from '../helpers/browser.js';
import { runCli } from '../helpers/run-cli.js';
import { escapeHtml } from '../../src/report/page.js';
import { REENROLL_ROUTE } from '../../src/smile/codes.js';

const ROOT = resolve(import.meta.dirname, '../..');
const HOSTILE = '<img src=x onerror=alert(1)>';
const FACES = [
  'fixtures/selfies/demo.jpg',
  'fixtures/faces/one-face-grace-hopper.jpg',
  'fixtures/faces/one-face-brown-man.jpg',
  'fixtures/faces/one-face-astronaut.jpg',
  'fixtures/faces/one-face-john-salley.jpg',
  'fixtures/faces/one-face-dwayne-johnson.jpg',
];
const NOT_A_SELFIE = ['fixtures/faces/cat.jpg', 'fixtures/faces/group-photo.jpg', 'fixtures/faces/blank-wall.jpg'];
const ROWS = 300;

const unavailable = chromiumUnavailableReason();
const skip = unavailable !== undefined && !BROWSER_REQUIRED;
const title = `the HTML report in headless chromium${skip ? ` (skipped: ${unavailable})` : ''}`;
if (skip) console.warn(`report-browser: skipped, ${unavailable} (SMILE_REQUIRE_BROWSER=1 makes this a failure)`);

let dir: string;
let emulator: RunningEmulator;
let browser: Browser;

/** users.csv of ROWS rows, mostly good faces; every 23rd rejected, every 41st provisional, some photos no selfie. */
async function writeRealisticRun(): Promise<{ enrolledBefore: string[] }> {
  await mkdir(join(dir, 'photos'));
  for (const path of [...FACES, ...NOT_A_SELFIE])
    await copyFile(join(ROOT, path), join(dir, 'photos', path.split('/').pop()!));
  const lines = ['user_id,selfie,sandbox_result,param.branch'];
  const enrolledBefore: string[] = [];
  for (let index = 1; index <= ROWS; index++) {
    const id = index === 57 ? HOSTILE : `user-${String(index).padStart(4, '0')}`;
    const face = FACES[(index % 7) % FACES.length]!.split('/').pop()!;
    let selfie = `photos/${face}`;
    let result = 'approve';
    if (index === 57 || index % 97 === 0)
      selfie = `photos/${NOT_A_SELFIE[index % NOT_A_SELFIE.length]!.split('/').pop()!}`;
    else if (index % 113 === 0) selfie = 'photos/missing.jpg';
    else if (index % 23 === 0) result = 'reject';
    else if (index % 41 === 0) result = 'provisional';
    else if (index % 61 === 0) enrolledBefore.push(id);
    const quoted = id.includes(',') || id.includes('"') ? `"${id.replace(/"/g, '""')}"` : id;
    lines.push(`${quoted},${selfie},${result},${['nairobi', 'lagos', 'accra'][index % 3]}`);
  }
  const file = join(dir, 'users.csv');
  await writeFile(file, `${lines.join('\n')}\n`);
  return { enrolledBefore };
}

describe.skipIf(skip)(title, () => {
  beforeAll(async () => {
    if (unavailable) throw new Error(`${unavailable} (SMILE_REQUIRE_BROWSER=1: the browser test may not skip)`);
    dir = await mkdtemp(join(tmpdir(), 'smile-report-browser-'));
    emulator = await startEmulator({ port: 0, processingMs: 100, humanReviewMs: 600_000 });
    browser = await launchHeadless();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('opens from file:// with nothing off the file, reads right, filters and searches', async () => {
    const { enrolledBefore } = await writeRealisticRun();
    const env = {
      SMILE_PARTNER_ID: emulator.partnerId,
      SMILE_API_KEY: emulator.apiKey,
      SMILE_BASE_URL: emulator.baseUrl,
      SMILE_CONFIG_DIR: join(dir, 'config'),
      HOME: dir,
    };
    // Users enrolled before the run: their rows are refused with 2209.
    const before = join(dir, 'before.csv');
    await writeFile(before, `user_id,selfie\n${enrolledBefore.map((id) => `${id},photos/demo.jpg`).join('\n')}\n`);
    expect((await runCli(['bulk', before, '--json'], { env })).code).toBe(0);
    // A few requests fail (5xx) and are not retried: those rows end as errors to re-run.
    emulator.setFaults({ errorRate: 0.01 });
    const html = join(dir, 'report.html');
    // Run from the run's directory, as an operator would: the page names users.csv, not a temp path.
    const cwd = process.cwd();
    process.chdir(dir);
    const run = await runCli(
      [
        'bulk',
        'users.csv',
        '--concurrency',
        '8',
        '--max-attempts',
        '1',
        '--html',
        'report.html',
        '--html-thumbnails',
        '--json',
      ],
      { env },
    ).finally(() => process.chdir(cwd));
    emulator.setFaults({});
    const summary = run.json<{ rows: number; outcomes: Record<string, number> }>();
    expect(summary.rows).toBe(ROWS);
    const source = await readFile(html, 'utf8');
    expect(source).not.toContain(emulator.apiKey);
    // Nothing signed: the word appears only in the 2209 hint's words on how to re-enrol (smile explain 2209).
    expect(source.split(escapeHtml(REENROLL_ROUTE)).join('')).not.toMatch(/signature/i);

    const context = await browser.newContext({ viewport: { width: 1280, height: 1700 } });
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const url = pathToFileURL(html).href;
    await page.goto(url, { waitUntil: 'load' });

    // Nothing but the file itself (its thumbnails are data: URIs inside it).
    expect(requests.filter((request) => request !== url && !request.startsWith('data:'))).toEqual([]);
    expect(problems).toEqual([]);

    const count = async (name: string) => Number(await page.locator(`[data-count="${name}"] b`).innerText());
    expect(await count('total')).toBe(ROWS);
    for (const [outcome, n] of Object.entries(summary.outcomes)) if (n > 0) expect(await count(outcome)).toBe(n);
    expect(await count('rejected')).toBeGreaterThan(5);
    expect(await count('invalid')).toBeGreaterThan(2);
    expect(await count('refused')).toBe(enrolledBefore.length);

    // A rejected row: user id, code, the reason in words, the fix.
    const rejected = page.locator('#attention-table tr[data-o="rejected"]').first();
    await expect.poll(() => rejected.innerText()).toMatch(/user-0023\s+rejected\s+0841/);
    expect(await rejected.innerText()).toMatch(/Enroll User FAIL: The registration was rejected/);
    expect(await rejected.innerText()).toMatch(/user-0023,photos\/\S+,reject,/);
    expect(await rejected.locator('img').getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
    // The hostile id is text in the cell, not an element.
    const hostile = page.locator('#attention-table tr', { hasText: HOSTILE });
    expect(await hostile.locator('td.u').innerText()).toBe(HOSTILE);
    expect(await hostile.innerText()).toMatch(/no_face|multiple_faces/);
    expect(await page.locator('td.u img').count()).toBe(0);
    // An enrolled user: refused, with the command that re-enrols.
    const refused = page.locator('#attention-table tr[data-o="refused"]').first();
    expect(await refused.innerText()).toMatch(
      /2209[\s\S]*smile register --user-id user-\d+ --selfie \S+ --allow-re-enroll/,
    );

    const shot = process.env['SMILE_REPORT_SCREENSHOT'] ?? join(dir, 'report.png');
    await page.screenshot({ path: shot });
    expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG');

    // Filter: only rejected rows are shown, in both tables.
    await page.selectOption('#filter', 'rejected');
    const shownOutcomes = await page.$$eval('tr[data-o]:not([hidden])', (rows) =>
      rows.map((row) => row.getAttribute('data-o')),
    );
    expect(new Set(shownOutcomes)).toEqual(new Set(['rejected']));
    expect(shownOutcomes.length).toBe(2 * (await count('rejected')));
    expect(await page.locator('#shown').innerText()).toBe(
      `${await count('rejected')} need attention · ${await count('rejected')} rows shown`,
    );
    // Search by user id, on every outcome.
    await page.selectOption('#filter', '');
    await page.fill('#search', 'USER-0042');
    const shownUsers = await page.$$eval('tr[data-o]:not([hidden]) td.u', (cells) =>
      cells.map((cell) => cell.textContent),
    );
    // Every row shown is that user's: once in all rows, and once more if it needs attention (the
    // injected server errors can hit any row).
    expect(new Set(shownUsers)).toEqual(new Set(['user-0042']));
    expect(await page.locator('#all-table tr[data-o]:not([hidden])').count()).toBe(1);
    await page.fill('#search', 'nobody-like-this');
    expect(await page.locator('#all-empty').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  }, 180_000);
});
