import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { CsvParser } from '../../src/bulk/csv.js';
import { runCli } from '../helpers/run-cli.js';
import { soak } from '../helpers/soak.js';
import { waitFor } from '../helpers/wait-for.js';
import { envFor, expectEachRegisteredOnce, readJsonl, userIds, workspace, writeCsv } from './bulk-helpers.js';
import type { Workspace } from './bulk-helpers.js';

let emulator: RunningEmulator;
let ws: Workspace;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 20 });
  ws = await workspace();
});
afterEach(async () => {
  await emulator.close();
  await ws.cleanup();
});

/**
 * Rows of the chaos run: enough that every kind of fault happens (each row makes several requests,
 * each with a 3–5 % chance of a fault) at the default size; the full thousand under SMILE_SOAK=1.
 */
const CHAOS_ROWS = soak(200, 1000);

type Summary = {
  exit_code: number;
  rows: number;
  outcomes: Record<string, number>;
  succeeded: number;
  failed: number;
  retryable: number;
  from_journal: number;
  first_failures: { line: number; reason: string }[];
  interrupted: boolean;
};

function csvRows(text: string): string[][] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()].map((record) => record.fields);
}

describe('smile bulk', () => {
  it('registers every row, with a report line per row and the failed rows in rejects (exit 6)', async () => {
    const file = await writeCsv(ws, 'users.csv', ['ok-1', 'ok-2', 'no-1'], (id) => ({
      sandbox_result: id.startsWith('no') ? 'reject' : 'approve',
      'param.branch': 'nbo',
    }));
    const result = await runCli(
      ['bulk', file, '--report', ws.path('report.csv'), '--rejects', ws.path('rejects.csv')],
      { env: envFor(emulator, ws) },
    );
    expect(result.code).toBe(6);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/✓ line 2 ok-1: approved 0840/);
    expect(result.stderr).toMatch(/✗ line 4 no-1: rejected 0841/);
    expect(result.stderr).toMatch(/Done: 3 rows .* approved 2 · rejected 1/);
    const report = csvRows(await readFile(ws.path('report.csv'), 'utf8'));
    expect(report).toHaveLength(4);
    expect(
      report
        .slice(1)
        .map((row) => [row[0], row[1], row[4]])
        .sort(),
    ).toEqual([
      ['2', 'ok-1', 'approved'],
      ['3', 'ok-2', 'approved'],
      ['4', 'no-1', 'rejected'],
    ]);
    const rejects = csvRows(await readFile(ws.path('rejects.csv'), 'utf8'));
    expect(rejects).toEqual([
      ['user_id', 'selfie', 'sandbox_result', 'param.branch', 'job_id', 'reason'],
      ['no-1', 'photos/face.jpg', 'reject', 'nbo', '', 'rejected: 0841 Enroll User FAIL'],
    ]);
    const job = [...emulator.state.jobs.values()].find((item) => item.userId === 'ok-1')!;
    expect(job.partnerParams['branch']).toBe('nbo');
    expect(existsSync(`${file}.smile-journal.jsonl`)).toBe(true);
  });

  it(
    `${CHAOS_ROWS.toLocaleString('en')} rows with 500s, dropped connections after the work and 429s: all approved, each once, report complete`,
    { timeout: 240_000 },
    async () => {
      emulator.setFaults({
        errorRate: 0.05,
        dropAfterWorkRate: 0.05,
        rateLimitRate: 0.03,
        retryAfterSeconds: 0,
        seed: 7,
      });
      const ids = userIds(CHAOS_ROWS);
      const file = await writeCsv(ws, 'big.csv', ids);
      const result = await runCli(
        ['bulk', file, '--concurrency', '16', '--report', ws.path('report.jsonl'), '--json'],
        { env: envFor(emulator, ws) },
      );
      const summary = result.json<Summary & { retries: number; rate_limit_pauses: number }>();
      expect(summary.first_failures).toEqual([]);
      expect(result.code).toBe(0);
      expect(summary.outcomes['approved']).toBe(CHAOS_ROWS);
      expect(summary.retries).toBeGreaterThan(0);
      expect(summary.rate_limit_pauses).toBeGreaterThan(0);
      // The faults really happened, of every kind.
      const faults = new Set(emulator.state.requests.map((request) => request.fault).filter(Boolean));
      expect([...faults].sort()).toEqual(['drop_after_work', 'error', 'rate_limit']);
      expectEachRegisteredOnce(emulator, ids);
      // A prep upload whose answer was lost is recovered on the same job with retry: true, never a new job.
      const recovered = [...emulator.state.jobs.values()].filter((job) => job.prepUploads.length > 1);
      expect(recovered.length).toBeGreaterThan(0);
      for (const job of recovered) expect(job.prepUploads.slice(1).every((body) => body['retry'] === true)).toBe(true);
      const report = await readJsonl(ws.path('report.jsonl'));
      expect(report).toHaveLength(CHAOS_ROWS);
      expect(new Set(report.map((line) => line['line'])).size).toBe(CHAOS_ROWS);
      expect(report.every((line) => line['outcome'] === 'approved' && typeof line['smile_job_id'] === 'string')).toBe(
        true,
      );
      // The journal names each row's job once and never holds the API key.
      const journal = await readFile(`${file}.smile-journal.jsonl`, 'utf8');
      expect(journal).not.toContain(emulator.apiKey);
      expect(await readFile(ws.path('report.jsonl'), 'utf8')).not.toContain(emulator.apiKey);
    },
  );

  it('--if-enrolled: fail refuses (exit 6), skip skips (exit 0), replace re-registers (allow_new_enroll)', async () => {
    const first = await writeCsv(ws, 'first.csv', ['e-1', 'e-2']);
    expect((await runCli(['bulk', first], { env: envFor(emulator, ws) })).code).toBe(0);
    const again = await writeCsv(ws, 'again.csv', ['e-1', 'e-2', 'new-1']);

    const fail = await runCli(['bulk', again, '--journal', ws.path('j-fail.jsonl'), '--json'], {
      env: envFor(emulator, ws),
    });
    expect(fail.code).toBe(6);
    expect(fail.json<Summary>().outcomes).toMatchObject({ refused: 2, approved: 1 });
    expect(fail.json<Summary>().first_failures[0]!.reason).toMatch(/2209.*--if-enrolled skip or replace/);

    const skip = await runCli(
      ['bulk', again, '--journal', ws.path('j-skip.jsonl'), '--if-enrolled', 'skip', '--json'],
      { env: envFor(emulator, ws) },
    );
    expect(skip.code).toBe(0);
    expect(skip.json<Summary>().outcomes).toMatchObject({ skipped: 3 });

    const replace = await runCli(
      ['bulk', again, '--journal', ws.path('j-replace.jsonl'), '--if-enrolled', 'replace', '--json'],
      { env: envFor(emulator, ws) },
    );
    expect(replace.code).toBe(0);
    expect(replace.json<Summary>().outcomes).toMatchObject({ approved: 3 });
    expect(emulator.state.users.get('e-1')!.enrollments).toBe(2);
    const replaced = [...emulator.state.jobs.values()].filter((job) => job.userId === 'e-1' && job.allowNewEnroll);
    expect(replaced).toHaveLength(1);
  });

  it('--no-wait only submits: outcome submitted, exit 0, nothing polled', async () => {
    const file = await writeCsv(ws, 'users.csv', userIds(5));
    const result = await runCli(['bulk', file, '--no-wait', '--json', '--report', ws.path('r.jsonl')], {
      env: envFor(emulator, ws),
    });
    expect(result.code).toBe(0);
    expect(result.json<Summary>().outcomes['submitted']).toBe(5);
    expect(emulator.state.requests.filter((request) => request.path.endsWith('/job_status'))).toHaveLength(0);
    expect(
      (await readJsonl(ws.path('r.jsonl'))).every((line) => line['outcome'] === 'submitted' && line['ok'] === true),
    ).toBe(true);
  });

  it('an existing journal without --resume is exit 2 naming --resume; another input is refused too', async () => {
    const file = await writeCsv(ws, 'users.csv', userIds(3));
    expect((await runCli(['bulk', file], { env: envFor(emulator, ws) })).code).toBe(0);
    const again = await runCli(['bulk', file], { env: envFor(emulator, ws) });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/journal of this input already exists.*3 rows finished/);
    expect(again.stderr).toMatch(/--resume/);
    const json = await runCli(['bulk', file, '--json'], { env: envFor(emulator, ws) });
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'journal_exists' } });

    await writeFile(file, `${await readFile(file, 'utf8')}user-x,photos/face.jpg\n`);
    const changed = await runCli(['bulk', file, '--resume'], { env: envFor(emulator, ws) });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/does not belong to this input.*SHA-256 differs/);
    const none = await runCli(['bulk', file, '--resume', '--journal', ws.path('none.jsonl')], {
      env: envFor(emulator, ws),
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no journal at/);
    expect(emulator.state.jobs.size).toBe(3);
  });

  it('--resume of a finished run sends nothing and rebuilds the complete report from the journal', async () => {
    const ids = userIds(4);
    const file = await writeCsv(ws, 'users.csv', ids);
    expect((await runCli(['bulk', file], { env: envFor(emulator, ws) })).code).toBe(0);
    const before = emulator.state.requests.length;
    const resumed = await runCli(['bulk', file, '--resume', '--report', ws.path('r.jsonl'), '--json'], {
      env: envFor(emulator, ws),
    });
    expect(resumed.code).toBe(0);
    expect(resumed.json<Summary>()).toMatchObject({ rows: 4, from_journal: 4 });
    expect(emulator.state.requests.length).toBe(before);
    const report = await readJsonl(ws.path('r.jsonl'));
    expect(report.map((line) => line['user_id']).sort()).toEqual(ids);
    expect(report.every((line) => line['outcome'] === 'approved' && line['result_code'] === '0840')).toBe(true);
  });

  it(
    'Ctrl-C: exit 130 after a clean shutdown; --resume then finishes every row exactly once',
    { timeout: 120_000 },
    async () => {
      const ids = userIds(80);
      const file = await writeCsv(ws, 'users.csv', ids);
      const controller = new AbortController();
      emulator.setFaults({ latencyMs: 15 });
      const journal = `${file}.smile-journal.jsonl`;
      const finals = () =>
        readFile(journal, 'utf8').then(
          (text) => (text.match(/"t":"final"/g) ?? []).length,
          () => 0,
        );
      // Ctrl-C as soon as 10 rows are final (or give up looking once the run has ended by itself).
      let ended = false;
      const interrupt = waitFor(async () => ended || (await finals()) >= 10, '10 final rows in the journal', {
        everyMs: 10,
        limitMs: 100_000,
      }).then(() => controller.abort());
      const first = await runCli(['bulk', file, '--concurrency', '8', '--json'], {
        env: envFor(emulator, ws),
        signal: controller.signal,
      });
      ended = true;
      await interrupt;
      expect(first.code).toBe(130);
      const summary = first.json<Summary & { next_step: string }>();
      expect(summary.interrupted).toBe(true);
      expect(summary.next_step).toMatch(/--resume/);
      expect(summary.rows).toBeLessThan(80);

      emulator.setFaults({});
      const resumed = await runCli(
        ['bulk', file, '--resume', '--concurrency', '8', '--json', '--report', ws.path('r.csv')],
        { env: envFor(emulator, ws) },
      );
      expect(resumed.code).toBe(0);
      expect(resumed.json<Summary>()).toMatchObject({ rows: 80, succeeded: 80 });
      expect(resumed.json<Summary>().from_journal).toBeGreaterThanOrEqual(10);
      expectEachRegisteredOnce(emulator, ids);
      expect(csvRows(await readFile(ws.path('r.csv'), 'utf8'))).toHaveLength(81);
    },
  );

  it('a job not final at --timeout is pending (exit 5); --resume keeps waiting for the same job', async () => {
    await emulator.close();
    emulator = await startEmulator({ port: 0, processingMs: 1500 });
    const ids = userIds(3);
    const file = await writeCsv(ws, 'users.csv', ids);
    const first = await runCli(['bulk', file, '--timeout', '300ms', '--json'], { env: envFor(emulator, ws) });
    expect(first.code).toBe(5);
    expect(first.json<Summary>().outcomes['pending']).toBe(3);
    expect(first.json<Summary>().first_failures[0]!.reason).toMatch(/--resume/);
    const resumed = await runCli(['bulk', file, '--resume', '--json'], { env: envFor(emulator, ws) });
    expect(resumed.code).toBe(0);
    expectEachRegisteredOnce(emulator, ids);
    for (const job of emulator.state.jobs.values()) expect(job.prepUploads).toHaveLength(1);
  });

  it('refuses a report, rejects or journal path that is the input (it would be emptied while read)', async () => {
    const file = await writeCsv(ws, 'same.csv', userIds(3, 'same'));
    const before = await readFile(file, 'utf8');
    for (const flag of ['--rejects', '--report', '--journal']) {
      const run = await runCli(['bulk', file, '--dry-run', flag, file, '--json'], { env: envFor(emulator, ws) });
      expect(run.code).toBe(2);
      expect(JSON.stringify(run.json())).toContain('same file');
    }
    const both = await runCli(
      ['bulk', file, '--report', ws.path('out.csv'), '--rejects', ws.path('out.csv'), '--json'],
      { env: envFor(emulator, ws) },
    );
    expect(both.code).toBe(2);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('--dry-run checks rows and selfies, sends nothing and writes no journal', async () => {
    const file = ws.path('mixed.csv');
    await writeFile(
      file,
      'user_id,selfie,latitude,longitude\nok-1,photos/face.jpg,,\nbad-geo,photos/face.jpg,91,0\nno-file,photos/none.jpg,,\n',
    );
    await writeFile(ws.path('photos/text.jpg'), 'hello, not a picture');
    await writeFile(ws.path('text.csv'), 'user_id,selfie\nt-1,photos/text.jpg\n');
    const result = await runCli(['bulk', file, '--dry-run'], { env: envFor(emulator, ws) });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/line 3 bad-geo: invalid — .*latitude 91/);
    expect(result.stderr).toMatch(/line 4 no-file: invalid — selfie photos\/none\.jpg: no such file/);
    expect(result.stderr).toMatch(/Plan: 1 registration would be sent · 2 invalid rows/);
    const image = await runCli(['bulk', ws.path('text.csv'), '--dry-run', '--json'], { env: envFor(emulator, ws) });
    expect(image.code).toBe(4);
    expect(image.json<Summary>().first_failures[0]!.reason).toMatch(/text\.jpg: .*not an image/);
    const good = await runCli(['bulk', await writeCsv(ws, 'good.csv', userIds(3)), '--dry-run', '--json'], {
      env: envFor(emulator, ws),
    });
    expect(good.code).toBe(0);
    expect(good.json()).toMatchObject({ dry_run: true, outcomes: { checked: 3 }, plan: { to_send: 3 } });
    // Without credentials a dry run still checks everything (it sends nothing anyway).
    const noCredentials = await runCli(['bulk', ws.path('good.csv'), '--dry-run', '--journal', ws.path('dry.jsonl')], {
      env: { SMILE_CONFIG_DIR: ws.path('config'), HOME: ws.dir },
    });
    expect(noCredentials.code).toBe(0);
    expect(noCredentials.stderr).toMatch(/Checking the rows without it/);
    expect(emulator.state.requests).toHaveLength(0);
    expect(existsSync(`${file}.smile-journal.jsonl`)).toBe(false);
    expect(existsSync(ws.path('dry.jsonl'))).toBe(false);
  });

  it('the example inputs in fixtures/rows check out (paths relative to the input file)', async () => {
    const env = envFor(emulator, ws);
    const csv = await runCli(['bulk', 'fixtures/rows/users.csv', '--dry-run', '--json'], { env });
    expect(csv.code).toBe(0);
    expect(csv.json()).toMatchObject({ outcomes: { checked: 3 } });
    const jsonl = await runCli(['bulk', 'fixtures/rows/users.jsonl', '--dry-run', '--json'], { env });
    expect(jsonl.code).toBe(0);
    expect(jsonl.json()).toMatchObject({ outcomes: { checked: 3 } });
    const mixed = await runCli(['bulk', 'fixtures/rows/mixed.csv', '--dry-run', '--json'], { env });
    expect(mixed.code).toBe(4);
    expect(mixed.json<Summary>().first_failures.map((failure) => failure.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(existsSync('fixtures/rows/users.csv.smile-journal.jsonl')).toBe(false);
  });

  it('unusable input is exit 4: missing file, no user_id column, no rows, every row invalid', async () => {
    const env = envFor(emulator, ws);
    expect((await runCli(['bulk', ws.path('nope.csv')], { env })).code).toBe(4);
    await writeFile(ws.path('noid.csv'), 'id,selfie\n1,photos/face.jpg\n');
    const noId = await runCli(['bulk', ws.path('noid.csv')], { env });
    expect(noId.code).toBe(4);
    expect(noId.stderr).toMatch(/no user_id column/);
    await writeFile(ws.path('empty.csv'), 'user_id,selfie\n');
    expect((await runCli(['bulk', ws.path('empty.csv')], { env })).stderr).toMatch(/has no rows/);
    await writeFile(ws.path('bad.csv'), 'user_id,selfie\n,photos/face.jpg\nu2,photos/none.jpg\n');
    expect((await runCli(['bulk', ws.path('bad.csv')], { env })).code).toBe(4);
    expect(emulator.state.requests).toHaveLength(0);
  });

  it('reads JSONL from stdin (with --journal), paths relative to the working directory', async () => {
    const lines = userIds(3)
      .map((id) => JSON.stringify({ user_id: id, selfie: ws.path('photos/face.jpg'), params: { source: 'stdin' } }))
      .join('\n');
    // (Without --journal, stdin rows get a journal in the state directory: test/reliability/bulk-stdin.test.ts.)
    const result = await runCli(['bulk', '-', '--journal', ws.path('stdin.jsonl'), '--json'], {
      env: envFor(emulator, ws),
      stdin: lines,
    });
    expect(result.code).toBe(0);
    expect(result.json<Summary>().outcomes['approved']).toBe(3);
    expect([...emulator.state.jobs.values()].every((job) => job.partnerParams['source'] === 'stdin')).toBe(true);
  });

  it('--shard K/N: the shards of one file together take every row exactly once', async () => {
    const ids = userIds(30);
    const file = await writeCsv(ws, 'users.csv', ids);
    const seen: number[] = [];
    for (const shard of ['1/3', '2/3', '3/3']) {
      const result = await runCli(['bulk', file, '--shard', shard, '--json'], { env: envFor(emulator, ws) });
      expect(result.code).toBe(0);
      seen.push(result.json<Summary>().rows);
      expect(existsSync(`${file}.shard-${shard.replace('/', 'of')}.smile-journal.jsonl`)).toBe(true);
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(30);
    expectEachRegisteredOnce(emulator, ids);
  });

  it('production: refuses without --yes off a terminal, asks on one, and refuses sandbox_result', async () => {
    const file = await writeCsv(ws, 'users.csv', ['p-1'], () => ({ sandbox_result: 'approve' }));
    const env = { ...envFor(emulator, ws), SMILE_ENV: 'production', SMILE_BASE_URL: 'https://127.0.0.1:9/v1' };
    const refused = await runCli(['bulk', file], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/▸ production · partner 085/);
    expect(refused.stderr).toMatch(/--yes/);
    const declined = await runCli(['bulk', file], { env, isTTY: true, stdin: 'n\n' });
    expect(declined.stderr).toMatch(/PRODUCTION for partner 085\? \[y\/N\]/);
    expect(declined.code).toBe(9);
    expect(declined.stderr).toMatch(/nothing was sent/);
    const dry = await runCli(['bulk', file, '--dry-run', '--json'], { env });
    expect(dry.json<Summary>().first_failures[0]!.reason).toMatch(/sandbox_result is refused in production/);
    expect(existsSync(`${file}.smile-journal.jsonl`)).toBe(false);
  });

  it('draws the ink dashboard on a TTY instead of one line per row', async () => {
    const file = await writeCsv(ws, 'users.csv', userIds(6));
    const result = await runCli(['bulk', file], { env: envFor(emulator, ws), isTTY: true });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/smile bulk/);
    expect(result.stderr).toMatch(/6\/6/);
    expect(result.stderr).toMatch(/rows\/s/);
    expect(result.stderr).not.toMatch(/✓ line 2/);
    expect(result.stderr).toMatch(/Done: 6 rows/);
  });

  it('a wrong API key stops the run (exit 3) instead of failing every row; the journal lets it resume', async () => {
    const file = await writeCsv(ws, 'users.csv', userIds(20));
    const result = await runCli(['bulk', file, '--json'], {
      env: { ...envFor(emulator, ws), SMILE_API_KEY: 'not-the-right-key' },
    });
    expect(result.code).toBe(3);
    expect(result.json()).toMatchObject({ ok: false, error: { code: '2205' } });
    expect(emulator.state.jobs.size).toBe(0);
    const resumed = await runCli(['bulk', file, '--resume', '--json'], { env: envFor(emulator, ws) });
    expect(resumed.code).toBe(0);
    expectEachRegisteredOnce(emulator, userIds(20));
  });

  it('rows that still fail after the retries are exit 5, ready for --resume', async () => {
    emulator.setFaults({ errorRate: 1 });
    const file = await writeCsv(ws, 'users.csv', userIds(3));
    const result = await runCli(['bulk', file, '--max-attempts', '1', '--json', '--rejects', ws.path('rejects.csv')], {
      env: envFor(emulator, ws),
    });
    expect(result.code).toBe(5);
    expect(result.json<Summary>()).toMatchObject({ retryable: 3, outcomes: { error: 3 } });
    expect(result.json<Summary>().first_failures[0]!.reason).toMatch(/HTTP 500|2201.*--resume/);
    const rejects = csvRows(await readFile(ws.path('rejects.csv'), 'utf8'));
    // Each retryable row carries its pinned job_id: re-running it can never make a second job.
    expect(rejects.slice(1).every((row) => row[2]!.startsWith('job-'))).toBe(true);
    expect(await readFile(ws.path('rejects.csv'), 'utf8')).not.toContain(emulator.apiKey);
    emulator.setFaults({});
    const resumed = await runCli(['bulk', file, '--resume'], { env: envFor(emulator, ws) });
    expect(resumed.code).toBe(0);
    expectEachRegisteredOnce(emulator, userIds(3));
  });

  it('refuses bad option values with exit 2', async () => {
    const file = await writeCsv(ws, 'users.csv', ['u']);
    for (const args of [
      ['--concurrency', '0'],
      ['--rate', '0'],
      ['--shard', '3/2'],
      ['--report', 'r.xlsx'],
      ['--timeout', 'soon'],
      ['--max-attempts', '0'],
    ]) {
      const result = await runCli(['bulk', file, ...args], { env: envFor(emulator, ws) });
      expect(result.code, args.join(' ')).toBe(2);
    }
    expect(emulator.state.requests).toHaveLength(0);
  });
});
