/**
 * Issue 9 items 3 and 4: nothing is acknowledged as saved unless it is whole and flushed, and a
 * file that cannot be written fails the run naming it. Real full disks: a tiny tmpfs (where it can
 * be mounted; skipped with the reason elsewhere) and /dev/full (through a symlink with a report
 * extension), which fails every write with ENOSPC.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JOURNAL_VERSION, JournalWriter, readJournal } from '../../src/bulk/journal.js';
import type { JournalHeader } from '../../src/bulk/journal.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, expectEachRegisteredOnce, readJsonl, userIds, workspace, writeCsv } from '../cli/bulk-helpers.js';
import type { Workspace } from '../cli/bulk-helpers.js';
import { tinyDisk, tinyDiskUnavailable } from './tiny-disk.js';
import type { TinyDisk } from './tiny-disk.js';

const header: JournalHeader = {
  t: 'run',
  v: JOURNAL_VERSION,
  input: { name: 'users.csv', format: 'csv', kind: 'sha256', value: 'abc', bytes: 10 },
  shard: null,
  started_at: '2025-01-01T00:00:00.000Z',
};
const skipReason = tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : '';

type Summary = {
  ok: boolean;
  exit_code: number;
  interrupted: boolean;
  error?: { code: string; message: string; hint: string | null };
  next_step: string | null;
};

let emulator: RunningEmulator;
let ws: Workspace;
let disk: TinyDisk | undefined;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 10 });
  ws = await workspace();
});
afterEach(async () => {
  disk?.cleanup();
  disk = undefined;
  await emulator.close();
  await ws.cleanup();
});

function freeTheDisk(d: TinyDisk): void {
  for (const name of readdirSync(d.dir)) if (name.startsWith('.filler')) rmSync(join(d.dir, name));
}

describe('bulk: durable writes', () => {
  it.skipIf(tinyDiskUnavailable !== undefined)(
    `journal: an append is acknowledged only once its record is whole on disk; a short write fails loudly${skipReason}`,
    async () => {
      disk = tinyDisk(32);
      const path = join(disk.dir, 'rows.smile-journal.jsonl');
      const journal = await JournalWriter.create(path, header);
      disk.leaveFree(0);
      const acknowledged: number[] = [];
      let failure: unknown;
      for (let line = 2; line < 1000; line++) {
        try {
          await journal.append({
            t: 'pin',
            line,
            user_id: `user-${line}`,
            job_id: `job-00000000-0000-0000-0000-${String(line).padStart(12, '0')}`,
          });
          acknowledged.push(line);
        } catch (error) {
          failure = error;
          break;
        }
      }
      await journal.close();
      expect(failure).toMatchObject({ code: 'journal_write', exitCode: 5 });
      expect((failure as Error).message).toContain(path);
      expect((failure as Error).message).toMatch(/the disk is full \(ENOSPC\)/);
      // Every acknowledged pin is on disk, whole; the one that failed never counted.
      const state = await readJournal(path);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const line of acknowledged)
        expect(state.entries.get(line)?.userId, `pin of line ${line}`).toBe(`user-${line}`);
      expect(state.entries.size).toBe(acknowledged.length);
      // Later appends fail too: the run stops rather than go on without its journal.
      await expect(journal.append({ t: 'uploaded', line: 2 })).rejects.toMatchObject({ code: 'journal_write' });

      // A resume (with room again) ends the torn line and goes on, as after a crash.
      freeTheDisk(disk);
      const resumed = await JournalWriter.append(path, { tornTail: state.tornTail });
      await resumed.append({ t: 'uploaded', line: 2 });
      await resumed.close();
      const after = await readJournal(path);
      expect(after.entries.get(2)?.step).toBe('uploaded');
      expect(after.entries.size).toBe(acknowledged.length);
    },
  );

  it.skipIf(tinyDiskUnavailable !== undefined)(
    `report on a nearly full disk: the run fails naming the report (not exit 0 with a truncated file); --resume rebuilds it from the journal${skipReason}`,
    { timeout: 60_000 },
    async () => {
      disk = tinyDisk(64);
      const ids = userIds(20, 'rep');
      const file = await writeCsv(ws, 'rows.csv', ids);
      const report = join(disk.dir, 'report.jsonl');
      disk.leaveFree(4096 * 2);
      const result = await runCli(['bulk', file, '--report', report, '--json'], { env: envFor(emulator, ws) });
      const summary = result.json<Summary>();
      expect(summary.ok).toBe(false);
      expect(result.code).toBe(5);
      expect(summary).toMatchObject({ exit_code: 5, interrupted: false, error: { code: 'report_write' } });
      expect(summary.error!.message).toContain(report);
      expect(summary.error!.hint ?? '').toMatch(/--resume/);
      expectEachRegisteredOnce(emulator, ids);

      freeTheDisk(disk);
      const sent = emulator.state.requests.length;
      const resumed = await runCli(['bulk', file, '--resume', '--report', report, '--json'], {
        env: envFor(emulator, ws),
      });
      expect(resumed.code).toBe(0);
      expect(emulator.state.requests.length).toBe(sent);
      const lines = await readJsonl(report);
      expect(lines.map((line) => line['user_id']).sort()).toEqual(ids);
      expect(lines.every((line) => line['outcome'] === 'approved' && line['result_code'] === '0840')).toBe(true);
    },
  );

  it('--report on /dev/full: exit 5 naming the file, not exit 1 "This is a bug"', async () => {
    const file = await writeCsv(ws, 'rows.csv', userIds(3, 'full'));
    const report = ws.path('report.csv');
    symlinkSync('/dev/full', report);
    const result = await runCli(['bulk', file, '--report', report], { env: envFor(emulator, ws) });
    expect(result.stderr).not.toMatch(/This is a bug/);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(report);
    expect(result.stderr).toMatch(/the disk is full \(ENOSPC\)/);
    expect(result.stderr).toMatch(/--resume --report/);
    const json = await runCli(['bulk', file, '--resume', '--report', report, '--json'], { env: envFor(emulator, ws) });
    expect(json.code).toBe(5);
    expect(json.json<Summary>()).toMatchObject({ ok: false, exit_code: 5, error: { code: 'report_write' } });
  });

  it('--rejects on /dev/full: exit 5 naming the file', async () => {
    const file = await writeCsv(ws, 'rows.csv', ['ok-1', 'no-1'], (id) => ({
      sandbox_result: id.startsWith('no') ? 'reject' : 'approve',
    }));
    const rejects = ws.path('rejects.csv');
    symlinkSync('/dev/full', rejects);
    const result = await runCli(['bulk', file, '--rejects', rejects, '--json'], { env: envFor(emulator, ws) });
    expect(result.code).toBe(5);
    const summary = result.json<Summary>();
    expect(summary).toMatchObject({ ok: false, exit_code: 5, error: { code: 'rejects_write' } });
    expect(summary.error!.message).toContain(rejects);
  });

  it("a report path that cannot be opened: named, in the tool's own words, before anything is sent", async () => {
    const file = await writeCsv(ws, 'rows.csv', userIds(2, 'open'));
    const report = ws.path('no-such-dir/report.csv');
    const result = await runCli(['bulk', file, '--report', report], { env: envFor(emulator, ws) });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(report);
    expect(result.stderr).toMatch(/directory .*does not exist/i);
    expect(result.stderr).not.toMatch(/ENOENT: no such file/);
    expect(emulator.state.jobs.size).toBe(0);
    mkdirSync(ws.path('no-such-dir'));
    const again = await runCli(['bulk', file, '--report', report], { env: envFor(emulator, ws) });
    expect(again.code).toBe(0);
    expect(readFileSync(report, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });
});
