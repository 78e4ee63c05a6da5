/**
 * Issue 9 item 1: one run per journal. Two real `bin/smile.js bulk` processes on one input (the
 * second a --resume, as in the reproduction): the second is refused naming the first, and
 * the emulator's state shows every user registered exactly once. A lock left by a dead process is
 * taken over; when several processes race to take over the same stale lock, exactly one wins.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { envFor, expectEachRegisteredOnce, userIds, workspace, writeCsv } from '../cli/bulk-helpers.js';
import type { Workspace } from '../cli/bulk-helpers.js';
import { countRecords, killChildren, spawnSmile } from './bulk-helpers.js';

let emulator: RunningEmulator;
let ws: Workspace;

beforeAll(() => {
  if (!existsSync('dist/commands/bulk.js')) throw new Error('dist/ is missing: run `npm run build`.');
});
beforeEach(async () => {
  ws = await workspace();
});
afterEach(async () => {
  killChildren();
  await emulator?.close();
  await ws.cleanup();
});

/** The pid of a process that has exited (and been reaped): nothing runs under it now. */
function deadPid(): number {
  const gone = spawnSync(process.execPath, ['-e', '']);
  return gone.pid;
}

describe('bulk: one run per journal', () => {
  it(
    'a --resume (or a second run) while the first is alive is refused naming it; every user registered once',
    { timeout: 180_000 },
    async () => {
      // Slow answers keep the first run busy until the test lets it go (latency back to 0 below).
      emulator = await startEmulator({ port: 0, processingMs: 300, faults: { latencyMs: 300 } });
      const ids = userIds(40, 'lock');
      const file = await writeCsv(ws, 'rows.csv', ids);
      const journal = `${file}.smile-journal.jsonl`;
      const env = envFor(emulator, ws);

      const first = spawnSmile(['bulk', file, '--concurrency', '2', '--json'], env);
      await waitFor(() => countRecords(journal, 'pin') >= 2, 'the first run to pin rows');

      const [resumed, again] = await Promise.all([
        spawnSmile(['bulk', file, '--resume'], env).exit,
        spawnSmile(['bulk', file, '--json'], env).exit,
      ]);
      // The first run was still going when both were turned away.
      expect(first.child.exitCode).toBe(null);
      const pid = first.child.pid!;
      expect(resumed.code).toBe(2);
      expect(resumed.stderr).toContain(`pid ${pid}`);
      expect(resumed.stderr).toContain(hostname());
      expect(resumed.stderr).toMatch(/since \d{4}-\d\d-\d\dT/);
      expect(resumed.stderr).not.toMatch(/at .*\.js:\d+/);
      expect(again.code).toBe(2);
      expect(JSON.parse(again.stdout)).toMatchObject({
        ok: false,
        error: { code: 'journal_locked', details: { pid, host: hostname() } },
      });

      emulator.setFaults({});
      const done = await first.exit;
      expect(done.stderr).not.toMatch(/✗|Interrupted/);
      expect(done.code).toBe(0);
      expectEachRegisteredOnce(emulator, ids);
      expect(emulator.state.jobs.size).toBe(40);
      // Released at the end, so the next --resume may run.
      expect(existsSync(`${journal}.lock`)).toBe(false);
      // Append-only: the journal is whole (every line JSON), not torn by a second writer.
      for (const line of readFileSync(journal, 'utf8').trim().split('\n'))
        expect(() => JSON.parse(line) as unknown).not.toThrow();
    },
  );

  it('a lock left by a dead process on this host is taken over (and said so); one from another host is refused', async () => {
    emulator = await startEmulator({ port: 0, processingMs: 10 });
    const ids = userIds(3, 'stale');
    const file = await writeCsv(ws, 'rows.csv', ids);
    const lock = `${file}.smile-journal.jsonl.lock`;

    writeFileSync(
      lock,
      `${JSON.stringify({ pid: 999_999_999, host: 'build-box-7', started_at: '2025-01-01T00:00:00.000Z' })}\n`,
    );
    const other = await runCli(['bulk', file], { env: envFor(emulator, ws) });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/pid 999999999 on build-box-7/);
    expect(other.stderr).toContain(lock);
    expect(emulator.state.jobs.size).toBe(0);

    const dead = deadPid();
    writeFileSync(lock, `${JSON.stringify({ pid: dead, host: hostname(), started_at: '2025-01-01T00:00:00.000Z' })}\n`);
    const result = await runCli(['bulk', file], { env: envFor(emulator, ws) });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`stale lock.*pid ${dead}`));
    expectEachRegisteredOnce(emulator, ids);
    expect(existsSync(lock)).toBe(false);
  });

  it('released on every exit path: a run stopped by an error leaves no lock behind', async () => {
    emulator = await startEmulator({ port: 0, processingMs: 10 });
    const file = await writeCsv(ws, 'rows.csv', userIds(3, 'err'));
    const result = await runCli(['bulk', file], {
      env: { ...envFor(emulator, ws), SMILE_API_KEY: 'not-the-right-key' },
    });
    expect(result.code).toBe(3);
    expect(existsSync(`${file}.smile-journal.jsonl.lock`)).toBe(false);
    const resumed = await runCli(['bulk', file, '--resume'], { env: envFor(emulator, ws) });
    expect(resumed.code).toBe(0);
  });

  it('six processes racing to take over one stale lock: exactly one gets it', { timeout: 120_000 }, async () => {
    const journal = ws.path('race.smile-journal.jsonl');
    writeFileSync(
      `${journal}.lock`,
      `${JSON.stringify({ pid: deadPid(), host: hostname(), started_at: '2025-01-01T00:00:00.000Z' })}\n`,
    );
    const script = ws.path('race.mjs');
    // Each contender loads the module, says "ready", waits for "go" (so they all start together),
    // tries to take the lock, reports, and holds it until its stdin ends.
    writeFileSync(
      script,
      `const { acquireFileLock } = await import(${JSON.stringify(pathToFileURL(resolve('dist/fs/lock.js')).href)});
const go = new Promise((done) => process.stdin.on('data', (chunk) => { if (String(chunk).includes('go')) done(); }));
const ended = new Promise((done) => process.stdin.on('end', done));
process.stdout.write('ready\\n');
await go;
try {
  const lock = await acquireFileLock(process.argv[2]);
  process.stdout.write('acquired ' + process.pid + '\\n');
  await ended;
  await lock.release();
} catch (error) {
  process.stdout.write('refused ' + error.code + ' ' + error.message + '\\n');
}
`,
    );
    const contenders: { child: ChildProcessWithoutNullStreams; out: () => string; exit: Promise<number | null> }[] = [];
    for (let i = 0; i < 6; i++) {
      const child = spawn(process.execPath, [script, journal], { stdio: 'pipe' });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      contenders.push({ child, out: () => out, exit: new Promise((done) => child.on('close', done)) });
    }
    await waitFor(() => contenders.every((c) => c.out().includes('ready')), 'every contender to load the lock module');
    for (const c of contenders) c.child.stdin.write('go\n');
    await waitFor(() => contenders.every((c) => /acquired|refused/.test(c.out())), 'every contender to try');
    const winners = contenders.filter((c) => c.out().includes('acquired'));
    expect(winners, contenders.map((c) => c.out()).join('')).toHaveLength(1);
    const winner = winners[0]!.child.pid!;
    for (const c of contenders.filter((item) => !item.out().includes('acquired')))
      expect(c.out()).toMatch(new RegExp(`refused journal_locked .*pid ${winner}`));
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: winner, host: hostname() });
    for (const c of contenders) c.child.stdin.end();
    await Promise.all(contenders.map((c) => c.exit));
    expect(existsSync(`${journal}.lock`)).toBe(false);
    expect(existsSync(join(ws.dir, 'race.smile-journal.jsonl.lock.break'))).toBe(false);
  });
});

describe('journal lock in a container', () => {
  it('a lock holding our own pid but written by an earlier process (pid reuse) is stale, not ours', async () => {
    const { acquireFileLock, lockPathOf } = await import('../../src/fs/lock.js');
    const dir = mkdtempSync(join(tmpdir(), 'smile-lock-pid-'));
    try {
      const journal = join(dir, 'rows.csv.smile-journal.jsonl');
      // What a killed run left behind when it, too, ran as this pid: an earlier start, another process start time.
      writeFileSync(
        lockPathOf(journal),
        JSON.stringify({ pid: process.pid, host: hostname(), started_at: '2020-01-01T00:00:00.000Z', pid_start: '1' }),
      );
      const stale: number[] = [];
      const lock = await acquireFileLock(journal, { onStale: (owner) => stale.push(owner.pid) });
      expect(stale).toEqual([process.pid]);
      expect(JSON.parse(readFileSync(lockPathOf(journal), 'utf8')) as { started_at: string }).not.toMatchObject({
        started_at: '2020-01-01T00:00:00.000Z',
      });
      await lock.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
