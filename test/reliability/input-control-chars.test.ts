/**
 * Issue 9 item 9: terminal escapes in input are never echoed raw, and file errors are said in the
 * tool's own words. The real CLI (in-process, the emulator for credentials) over real files in a
 * temp dir: a symlink loop, a NUL byte, an over-long name, a directory, an OSC title sequence.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Output } from '../../src/output/output.js';
import { runCli } from '../helpers/run-cli.js';

const OSC_TITLE = '\u001b]0;pwned\u0007';
/** What a terminal would act on: C0 but tab and line feed, DEL, C1, bidi overrides and isolates. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** The same, but CSV lines end in CRLF. */
// eslint-disable-next-line no-control-regex
const CSV_UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** Node's own error texts: errno names with a system call, or the argument validator's words. */
const NODE_WORDS = /E[A-Z]{3,}:|\b(stat|open|lstat|scandir) '|null bytes|Received '|The argument/;

let dir: string;
const env = () => ({ HOME: dir, SMILE_CONFIG_DIR: join(dir, 'config') });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-controls-'));
  await copyFile(resolve('fixtures/selfies/demo.jpg'), join(dir, 'face.jpg'));
  await symlink('loop-b.jpg', join(dir, 'loop-a.jpg'));
  await symlink('loop-a.jpg', join(dir, 'loop-b.jpg'));
  await mkdir(join(dir, 'folder.jpg'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(color: boolean, json = false): { out: Output; stdout: () => string; stderr: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (chunk: Buffer) => (o += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (e += chunk.toString()));
  return { out: new Output({ stdout, stderr }, { json, quiet: false, color }), stdout: () => o, stderr: () => e };
}

describe('the one place that writes', () => {
  it('shows control characters and bidi overrides as escapes in every human message', () => {
    const { out, stdout, stderr } = capture(false);
    out.info(`checking a${OSC_TITLE}b.jpg`);
    out.warn('carriage\rreturn and \u202eevil\u202c and C1 \u009b31m');
    out.stderr(`raw \u001b[2J text\n`);
    out.error(new InputError(`bad ${OSC_TITLE} path`, { hint: `hint \u0007 too` }), { debug: false });
    out.result({}, () => `result \u001b]8;;http://x\u0007link\u001b]8;;\u0007`);
    const all = stdout() + stderr();
    expect(all).not.toMatch(UNSAFE);
    expect(stderr()).toContain('checking a\\x1b]0;pwned\\x07b.jpg');
    expect(stderr()).toContain('carriage\\rreturn and \\u202eevil\\u202c and C1 \\x9b31m');
    expect(stderr()).toContain('hint \\x07 too');
    expect(stdout()).toContain('result \\x1b]8;;http://x\\x07link');
    // Layout stays: line feeds and tabs.
    expect(stderr().split('\n').length).toBeGreaterThan(4);
  });

  it('keeps its own colours on a terminal but not an escape from input', () => {
    const { out, stderr } = capture(true);
    out.info(`${out.paint('red', '✗')} a${OSC_TITLE}b`);
    expect(stderr()).toContain('\u001b[31m✗\u001b[39m');
    expect(stderr()).toContain('a\\x1b]0;pwned\\x07b');
  });

  it('escapes DEL, C1 and bidi characters in JSON too, so that the document still parses to the same strings', () => {
    const { out, stdout } = capture(false, true);
    const value = `a\u202eb\u0085c\u007fd${OSC_TITLE}`;
    out.writeJson({ path: value });
    expect(stdout()).not.toMatch(UNSAFE);
    expect(JSON.parse(stdout())).toEqual({ path: value });
  });
});

describe('smile register with a hostile selfie path', () => {
  it('names the path with its escapes shown, and exits 4', async () => {
    const result = await runCli(
      ['register', '--emulator', '--user-id', 'u-1', '--selfie', join(dir, `a${OSC_TITLE}b.jpg`)],
      { env: env() },
    );
    expect(result.code).toBe(4);
    expect(result.stderr).not.toMatch(UNSAFE);
    expect(result.stderr).toContain('a\\x1b]0;pwned\\x07b.jpg');
  });

  it('a symlink loop is explained in plain words', async () => {
    const result = await runCli(['register', '--emulator', '--user-id', 'u-1', '--selfie', join(dir, 'loop-a.jpg')], {
      env: env(),
    });
    expect(result.code).toBe(4);
    expect(result.stderr).not.toMatch(NODE_WORDS);
    expect(result.stderr).toMatch(/loop-a\.jpg: The file cannot be read \(too many symbolic links/);
  });
});

describe('smile selfie check', () => {
  it('says what is wrong with a symlink loop and an over-long name without Node error texts', async () => {
    const long = join(dir, `${'x'.repeat(300)}.jpg`);
    const result = await runCli(['selfie', 'check', join(dir, 'loop-a.jpg'), long, join(dir, `c${OSC_TITLE}.jpg`)], {
      env: env(),
    });
    expect(result.code).toBe(4);
    expect(result.stdout).not.toMatch(NODE_WORDS);
    expect(result.stdout).not.toMatch(UNSAFE);
    expect(result.stdout).toMatch(/too many symbolic links/);
    expect(result.stdout).toMatch(/the path is too long/);
    expect(result.stdout).toContain('c\\x1b]0;pwned\\x07.jpg');
  });

  it('keeps the exact path in --json (JSON escaping covers it)', async () => {
    const path = join(dir, `c${OSC_TITLE}.jpg`);
    const result = await runCli(['selfie', 'check', path, '--json'], { env: env() });
    expect(result.stdout).not.toMatch(UNSAFE);
    expect(result.json<{ files: Array<{ path: string }> }>().files[0]?.path).toBe(path);
  });
});

describe('smile bulk rows with bad paths', () => {
  it('gives every row a reason in plain words, with the path shown safely, on stderr and in the report', async () => {
    const rows = [
      { user_id: 'u-loop', selfie: 'loop-a.jpg' },
      { user_id: 'u-nul', selfie: 'face\u0000.jpg' },
      { user_id: 'u-long', selfie: `${'y'.repeat(300)}.jpg` },
      { user_id: 'u-dir', selfie: 'folder.jpg' },
      { user_id: 'u-osc', selfie: `a${OSC_TITLE}.jpg` },
      { user_id: 'u-gone', selfie: 'missing.jpg' },
      { user_id: 'u-bidi', selfie: 'face.jpg', params: { note: 'gpj.\u202eexe' } },
      { user_id: 'u-ok', selfie: 'face.jpg' },
    ];
    const input = join(dir, 'rows.jsonl');
    await writeFile(input, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
    const report = join(dir, 'report.jsonl');
    const result = await runCli(
      ['bulk', input, '--dry-run', '--emulator', '--report', report, '--journal', join(dir, 'rows.journal.jsonl')],
      { env: env() },
    );
    expect(result.code).toBe(4);
    expect(result.stderr).not.toMatch(UNSAFE);
    expect(result.stderr).not.toMatch(NODE_WORDS);
    const byLine = new Map(
      (await readFile(report, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { line: number; reason: string | null })
        .map((doc) => [doc.line, doc.reason]),
    );
    const reasons = Object.fromEntries(rows.map((row, index) => [row.user_id, byLine.get(index + 1)]));
    for (const reason of Object.values(reasons)) if (reason !== null) expect(reason).not.toMatch(NODE_WORDS);
    expect(reasons['u-loop']).toMatch(/selfie loop-a\.jpg: too many symbolic links/);
    expect(reasons['u-nul']).toMatch(/selfie .*face\\x00\.jpg.*control characters/);
    expect(reasons['u-long']).toMatch(/the path is too long/);
    expect(reasons['u-dir']).toMatch(/folder\.jpg is not a file/);
    expect(reasons['u-osc']).toContain('a\\x1b]0;pwned\\x07.jpg');
    expect(reasons['u-gone']).toMatch(/missing\.jpg: no such file/);
    expect(reasons['u-bidi']).toMatch(/note .*control characters/);
    expect(reasons['u-ok']).toBeNull();
  });

  it('writes no raw control character into a CSV report or rejects file', async () => {
    const input = join(dir, 'rows.csv');
    await writeFile(input, `user_id,selfie,param.note\nu-1,face.jpg,"x${OSC_TITLE}y"\nu-2,b${OSC_TITLE}.jpg,z\n`);
    const report = join(dir, 'report.csv');
    const rejects = join(dir, 'rejects.csv');
    const result = await runCli(
      [
        'bulk',
        input,
        '--dry-run',
        '--emulator',
        '--report',
        report,
        '--rejects',
        rejects,
        '--journal',
        join(dir, 'rows.csv.journal.jsonl'),
      ],
      { env: env() },
    );
    expect(result.code).toBe(4);
    const reportText = await readFile(report, 'utf8');
    const rejectsText = await readFile(rejects, 'utf8');
    expect(reportText).not.toMatch(CSV_UNSAFE);
    expect(rejectsText).not.toMatch(CSV_UNSAFE);
    expect(rejectsText).toContain('x\\x1b]0;pwned\\x07y');
  });

  it('an input file that is a symlink loop is refused in plain words (exit 4)', async () => {
    await symlink('rows-loop-b.csv', join(dir, 'rows-loop-a.csv'));
    await symlink('rows-loop-a.csv', join(dir, 'rows-loop-b.csv'));
    const result = await runCli(['bulk', join(dir, 'rows-loop-a.csv'), '--dry-run', '--emulator'], { env: env() });
    expect(result.code).toBe(4);
    expect(result.stderr).not.toMatch(NODE_WORDS);
    expect(result.stderr).toMatch(/Cannot read .*rows-loop-a\.csv: too many symbolic links/);
  });
});
