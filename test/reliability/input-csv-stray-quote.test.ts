/**
 * Issue 9 item 8: one stray `"` must not eat a CSV silently. The real CLI (`smile bulk --dry-run
 * --emulator --json`, in-process) reads real files in a temp dir. Every row needs a selfie (a
 * registration always sends one); they all name the same small fixture, checked without the face
 * detector (--skip-face-check), so a 1,000-row file stays quick on a busy machine.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

interface Failure {
  line: number;
  user_id: string | null;
  outcome: string;
  reason: string;
}
interface Summary {
  rows: number;
  outcomes: { checked: number; invalid: number };
  first_failures: Failure[];
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-stray-quote-'));
  await copyFile('fixtures/selfies/liveness-1.jpg', join(dir, 'face.jpg'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A header and `rows` data rows (`u1`…); `edit` may replace a row by its physical line number. */
async function csv(
  name: string,
  rows: number,
  edit: (line: number, text: string) => string = (_, text) => text,
): Promise<string> {
  const lines = ['user_id,selfie,allow_re_enroll,param.note'];
  for (let i = 1; i <= rows; i++) lines.push(edit(i + 1, `u${i},face.jpg,true,n${i}`));
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function dryRun(path: string): Promise<{ code: number; summary: Summary }> {
  const result = await runCli(
    ['bulk', path, '--dry-run', '--skip-face-check', '--emulator', '--json', '--journal', `${path}.journal.jsonl`],
    { env: { HOME: dir, SMILE_CONFIG_DIR: join(dir, 'config') } },
  );
  return { code: result.code, summary: result.json<Summary>() };
}

describe('a stray quote in a bulk CSV', () => {
  it('costs only its own row: the row is invalid, names the lines it would swallow, and the other 999 rows are read', async () => {
    const path = await csv('stray.csv', 1000, (line, text) => (line === 4 ? 'u3,face.jpg,"true,n3' : text));
    const { code, summary } = await dryRun(path);
    expect(summary.rows).toBe(1000);
    expect(summary.outcomes.invalid).toBe(1);
    expect(summary.outcomes.checked).toBe(999);
    const [failure] = summary.first_failures;
    expect(failure?.line).toBe(4);
    expect(failure?.reason).toMatch(/opened on line 4/);
    expect(failure?.reason).toMatch(/lines 5–104/);
    expect(failure?.reason).toMatch(/goes on at line 5/);
    expect(code).toBe(4);
  });

  it('near the end of the file: names the lines up to the end, and reads them as rows', async () => {
    const path = await csv('stray-end.csv', 1000, (line, text) => (line === 996 ? 'u995,face.jpg,"true,n995' : text));
    const { summary } = await dryRun(path);
    expect(summary.rows).toBe(1000);
    expect(summary.outcomes.invalid).toBe(1);
    expect(summary.first_failures[0]?.line).toBe(996);
    expect(summary.first_failures[0]?.reason).toMatch(/never closed.*lines 997–1001/);
  });

  it('closed by a quote further down that is followed by text: only the row with the stray quote is lost', async () => {
    const path = await csv('stray-closed.csv', 1000, (line, text) =>
      line === 4 ? 'u3,face.jpg,"true,n3' : line === 9 ? 'u8,face.jpg,true,"n8"' : text,
    );
    const { summary } = await dryRun(path);
    expect(summary.rows).toBe(1000);
    expect(summary.outcomes.invalid).toBe(1);
    expect(summary.outcomes.checked).toBe(999);
    expect(summary.first_failures[0]?.reason).toMatch(/opened on line 4 .*line 9/);
  });

  it('closed cleanly at the end of a later line: the row is invalid and the message names the lines it swallowed', async () => {
    const path = await csv('stray-clean.csv', 1000, (line, text) =>
      line === 4 ? 'u3,face.jpg,"true,n3' : line === 7 ? 'u6,face.jpg,true,n6"' : text,
    );
    const { summary } = await dryRun(path);
    const failure = summary.first_failures.find((f) => f.line === 4);
    expect(failure?.reason).toMatch(/lines 4–7/);
    expect(failure?.reason).toMatch(/lines 5–7/);
    expect(summary.outcomes.checked).toBe(996);
  });

  it('keeps legitimate multi-line quoted values working, with the right line numbers after them', async () => {
    const path = await csv('multi.csv', 1000, (line, text) =>
      line === 4
        ? 'u3,face.jpg,true,"first line\nsecond line\r\nthird ""quoted"" line"'
        : line === 500
          ? 'u499,face.jpg,maybe,n499'
          : text,
    );
    const { summary } = await dryRun(path);
    expect(summary.rows).toBe(1000);
    expect(summary.outcomes.checked).toBe(999);
    // u499 sits on physical line 502: the quoted value on line 4 spans lines 4–6.
    expect(summary.first_failures).toEqual([expect.objectContaining({ line: 502, user_id: 'u499' })]);
  });
});
