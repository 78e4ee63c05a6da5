/**
 * Issue 16: `smile bulk … --html` and `smile report JOURNAL --html` against the real emulator:
 * what the page says (counts, the failed rows with the reason in words and the fix), what it must
 * never hold (the API key, signatures, markup from input), thumbnails only when asked (and asked
 * for in production), finished and interrupted journals, bad paths with their exit codes.
 */
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, workspace, writeCsv } from './bulk-helpers.js';
import type { Workspace } from './bulk-helpers.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

let emulator: RunningEmulator;
let ws: Workspace;

beforeEach(async () => {
  // The human review of a provisional row takes longer than the run waits for it.
  emulator = await startEmulator({ port: 0, processingMs: 20, humanReviewMs: 600_000 });
  ws = await workspace();
  await copyFile('fixtures/faces/cat.jpg', ws.path('photos/cat.jpg'));
});
afterEach(async () => {
  await emulator.close();
  await ws.cleanup();
});

/** ok-1, a rejected row, a hostile user id whose selfie is a cat (invalid: no face), ok-4, a provisional row. */
async function mixedCsv(): Promise<string> {
  const file = await writeCsv(ws, 'users.csv', ['ok-1', 'no-2', 'cat-3', 'ok-4', 'wait-5'], (id) => ({
    sandbox_result: id.startsWith('no') ? 'reject' : id.startsWith('wait') ? 'provisional' : 'approve',
  }));
  // The third row: a hostile user id and a photo of a cat.
  const text = (await readFile(file, 'utf8')).replace('cat-3,photos/face.jpg', `"${HOSTILE}",photos/cat.jpg`);
  await writeFile(file, text);
  return file;
}

/** The page's text without markup (what a person reads). */
function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('smile bulk --html', () => {
  it('writes one self-contained page: counts, the rows to fix with reason and fix, no key, no signature, no markup from input', async () => {
    const file = await mixedCsv();
    const html = ws.path('report.html');
    const result = await runCli(['bulk', file, '--html', html, '--report', ws.path('report.csv')], {
      env: envFor(emulator, ws),
    });
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain(`html report: ${html}`);
    expect(result.stderr).toMatch(/--resume .*--html /);
    const page = await readFile(html, 'utf8');
    const text = visibleText(page);
    expect(text).toContain('Bulk report');
    expect(text).toMatch(/5 rows 2 approved 1 rejected 1 invalid 1 provisional/);
    expect(text).toContain('Needs attention (3)');
    expect(text).toMatch(/Partner 085/);
    // The rejected row: its code, the code's meaning in words, and the row to fix.
    expect(text).toMatch(/no-2 rejected 0841 Enroll User FAIL/);
    expect(text).toMatch(/no-2,photos\/face\.jpg,reject,/);
    // The invalid row, hostile id and all: shown as text, never as markup.
    expect(text).toContain(`${HOSTILE} invalid no_face`);
    expect(text).toMatch(/No human face/);
    expect(page).not.toContain('<img src=x');
    // The provisional row is followed with smile status.
    expect(text).toMatch(/smile status --user-id wait-5 --job-id job-[\w-]+ --wait/);
    // Private: no API key, nothing signed, no images without --html-thumbnails, nothing from the network.
    expect(page).not.toContain(emulator.apiKey);
    expect(page).not.toMatch(/signature/i);
    expect(page).not.toContain('data:image');
    expect(page).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(await readdir(ws.dir)).not.toContainEqual(expect.stringMatching(/\.(tmp|spool)$/));
  });

  it('--html-thumbnails embeds small selfies of the rows that need attention only; --json names the page', async () => {
    const file = await mixedCsv();
    const html = ws.path('report.html');
    const result = await runCli(['bulk', file, '--html', html, '--html-thumbnails', '--json'], {
      env: envFor(emulator, ws),
    });
    expect(result.json()).toMatchObject({ html, exit_code: 5 });
    const page = await readFile(html, 'utf8');
    const images = [...page.matchAll(/<img src="data:image\/jpeg;base64,[^"]+" alt="selfie of line (\d+)"/g)];
    expect(images.map((match) => match[1])).toEqual(['3', '4', '6']);
    expect(page).toMatch(/3 of 3 row\(s\) with a selfie/);
  });

  it('refuses --html-thumbnails without --html (exit 2), and an --html path it cannot write before sending anything (exit 5)', async () => {
    const file = await mixedCsv();
    const alone = await runCli(['bulk', file, '--html-thumbnails'], { env: envFor(emulator, ws) });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--html-thumbnails needs --html PATH/);
    const nowhere = await runCli(['bulk', file, '--html', ws.path('no-dir/r.html')], { env: envFor(emulator, ws) });
    expect(nowhere.code).toBe(5);
    expect(nowhere.stderr).toMatch(/The HTML report .*no-dir\/r\.html cannot be written: its directory does not exist/);
    expect(emulator.state.jobs.size).toBe(0);
    const same = await runCli(['bulk', file, '--html', file], { env: envFor(emulator, ws) });
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--html and the input are the same file/);
  });
});

describe('smile report', () => {
  it('makes the page of a finished run from its journal and report, in input order, with thumbnails when asked', async () => {
    const file = await mixedCsv();
    await runCli(['bulk', file, '--report', ws.path('report.jsonl')], { env: envFor(emulator, ws) });
    // A resume (nothing left to send but the provisional row's wait) is recorded in the journal.
    await runCli(['bulk', file, '--resume', '--timeout', '1s', '--report', ws.path('report.jsonl')], {
      env: envFor(emulator, ws),
    });
    const journal = `${file}.smile-journal.jsonl`;
    const html = ws.path('from-journal.html');
    const result = await runCli(
      ['report', journal, '--report', ws.path('report.jsonl'), '--html', html, '--html-thumbnails', '--json'],
      { env: envFor(emulator, ws) },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({
      ok: true,
      html,
      rows: 5,
      need_attention: 3,
      outcomes: { approved: 2, rejected: 1, invalid: 1, provisional: 1 },
      thumbnails: true,
    });
    const page = await readFile(html, 'utf8');
    const lines = [...page.matchAll(/data-t="all"[^>]*><td class="n">(\d+)</g)].map((match) => match[1]);
    expect(lines).toEqual(['2', '3', '4', '5', '6']);
    expect(visibleText(page)).toMatch(/Partner 085/);
    expect(visibleText(page)).toMatch(/Resumed 1×/);
    expect(page.match(/<img src="data:image\/jpeg/g)?.length).toBe(3);
    // Every row the journal finished has its time: the chart has bars.
    expect(page).toMatch(/<rect class="o-approved"/);
    expect(page).not.toContain(emulator.apiKey);
    expect(page).not.toMatch(/signature/i);
  });

  it('makes the page of an interrupted run: a row in flight is pending, with the command that finishes the run', async () => {
    const file = await writeCsv(ws, 'users.csv', ['ok-1', 'ok-2', 'late-3']);
    await runCli(['bulk', file], { env: envFor(emulator, ws) });
    const journal = `${file}.smile-journal.jsonl`;
    // As a crash leaves it: line 4 pinned and prepared, no final record (and a row never reached).
    const lines = (await readFile(journal, 'utf8')).split('\n').filter(Boolean);
    const kept = lines.filter((line) => !(line.includes('"line":4') && line.includes('"t":"final"')));
    await writeFile(journal, `${kept.join('\n')}\n`);
    await writeFile(file, `${await readFile(file, 'utf8')}never-5,photos/face.jpg\n`);
    const html = ws.path('interrupted.html');
    const result = await runCli(['report', journal, '--html', html], { env: envFor(emulator, ws) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Wrote .*interrupted\.html: 3 rows, 1 needs attention/);
    const text = visibleText(await readFile(html, 'utf8'));
    expect(text).toContain('Not finished');
    expect(text).toMatch(/Rows 3 of 4/);
    expect(text).toMatch(/late-3 pending .*in flight when the run stopped/);
    expect(text).toMatch(/smile bulk \S*users\.csv --resume --journal \S+users\.csv\.smile-journal\.jsonl/);
  });

  it('asks before putting production faces in the page on a terminal, and needs --yes without one', async () => {
    const file = await mixedCsv();
    await runCli(['bulk', file], { env: envFor(emulator, ws) });
    const journal = `${file}.smile-journal.jsonl`;
    const text = await readFile(journal, 'utf8');
    await writeFile(journal, text.replace('"environment":"sandbox"', '"environment":"production"'));
    expect(text).toContain('"environment":"sandbox"');
    const html = ws.path('prod.html');
    const plain = await runCli(['report', journal, '--html', html, '--html-thumbnails'], { env: envFor(emulator, ws) });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/need --yes without an interactive terminal/);
    const no = await runCli(['report', journal, '--html', html, '--html-thumbnails'], {
      env: envFor(emulator, ws),
      isTTY: true,
      stdin: 'n\n',
    });
    expect(no.code, no.stderr).toBe(0);
    expect(no.stderr).toMatch(/PRODUCTION faces in a file\)\? \[y\/N\]/);
    expect(await readFile(html, 'utf8')).not.toContain('data:image');
    const yes = await runCli(['report', journal, '--html', html, '--html-thumbnails'], {
      env: envFor(emulator, ws),
      isTTY: true,
      stdin: 'y\n',
    });
    expect(yes.code).toBe(0);
    expect(await readFile(html, 'utf8')).toContain('data:image/jpeg');
    const flagged = await runCli(['report', journal, '--html', html, '--html-thumbnails', '--yes'], {
      env: envFor(emulator, ws),
    });
    expect(flagged.code).toBe(0);
  });

  it('says what is wrong with a bad path, with the right exit code and no stack trace', async () => {
    const file = await mixedCsv();
    await runCli(['bulk', file, '--report', ws.path('r.csv')], { env: envFor(emulator, ws) });
    const journal = `${file}.smile-journal.jsonl`;
    const cases: [string[], number, RegExp][] = [
      [['report', ws.path('nope.jsonl'), '--html', ws.path('a.html')], 4, /No such journal: .*nope\.jsonl/],
      [['report', file, '--html', ws.path('a.html')], 4, /users\.csv is not a smile bulk journal/],
      [['report', ws.path('photos'), '--html', ws.path('a.html')], 4, /journal .*photos is not a file/],
      [['report', journal], 2, /--html <path>/],
      [['report', journal, '--html', journal], 2, /is the journal: it would be overwritten/],
      [
        ['report', journal, '--html', ws.path('a.html'), '--report', ws.path('r.xlsx')],
        2,
        /must end in \.csv or \.jsonl/,
      ],
      [['report', journal, '--html', ws.path('a.html'), '--report', ws.path('gone.csv')], 4, /No such report/],
      [['report', journal, '--html', ws.path('a.html'), '--input', ws.path('gone.csv')], 4, /No such input/],
      [['report', journal, '--html', ws.path('no-dir/a.html')], 5, /cannot be written: its directory does not exist/],
    ];
    for (const [argv, code, message] of cases) {
      const result = await runCli(argv, { env: envFor(emulator, ws) });
      expect(result.code, `${argv.join(' ')}\n${result.stderr}`).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
