/**
 * The packaged binary under kill -9: `node bin/smile.js bulk` is SIGKILLed at several points of a
 * run (prep uploads in flight, zips uploaded, results arriving), resumed each time, and the
 * emulator's own state proves that every row was registered exactly once. Also: SIGTERM is a
 * clean shutdown (exit 130, journal flushed). Runs dist/ (built by test/global-setup.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { childEnv } from '../helpers/child-env.js';
import { soak } from '../helpers/soak.js';
import { waitFor } from '../helpers/wait-for.js';
import { envFor, expectEachRegisteredOnce, readJsonl, userIds, workspace, writeCsv } from './bulk-helpers.js';
import type { Workspace } from './bulk-helpers.js';

const children = new Set<ChildProcess>();

beforeAll(() => {
  // dist/ is (re)built once before any test file by test/global-setup.ts when src/ is newer.
  if (!existsSync('dist/commands/bulk.js')) throw new Error('dist/commands/bulk.js is missing: run `npm run build`.');
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

let emulator: RunningEmulator;
let ws: Workspace;
beforeEach(async () => {
  // A little latency per request keeps each step open long enough to be killed in the middle of it.
  emulator = await startEmulator({ port: 0, processingMs: 150, faults: { latencyMs: 25 } });
  ws = await workspace();
});
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  await emulator.close();
  await ws.cleanup();
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function spawnBulk(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, ['bin/smile.js', 'bulk', ...args], {
    env: childEnv(ws.dir, { ...envFor(emulator, ws), CI: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exit };
}

function countRecords(journal: string, type: string): number {
  if (!existsSync(journal)) return 0;
  return (readFileSync(journal, 'utf8').match(new RegExp(`"t":"${type}"`, 'g')) ?? []).length;
}

/** Send `signal` as soon as the journal satisfies `when` (polled every few ms; no fixed sleeps). */
async function signalWhen(
  child: ChildProcess,
  exit: Promise<Exit>,
  when: () => boolean,
  signal: NodeJS.Signals,
  everyMs = 3,
): Promise<Exit> {
  let done = false;
  void exit.then(() => (done = true));
  // No limit of its own: the run ends by itself at the latest, and the test's timeout bounds that.
  await waitFor(() => done || when(), `the moment to send ${signal}`, { everyMs, limitMs: Infinity });
  if (!done) child.kill(signal);
  return exit;
}

/** Job ids pinned in the journal, whose job exists at the emulator, but with no `prepared` record yet. */
function landedButNotJournaled(journal: string): string[] {
  if (!existsSync(journal)) return [];
  const pinned = new Map<number, string>();
  const prepared = new Set<number>();
  for (const line of readFileSync(journal, 'utf8').split('\n')) {
    try {
      const record = JSON.parse(line) as { t: string; line: number; job_id: string };
      if (record.t === 'pin') pinned.set(record.line, record.job_id);
      if (record.t === 'prepared') prepared.add(record.line);
    } catch {
      // a torn or empty line
    }
  }
  return [...pinned]
    .filter(([line, jobId]) => !prepared.has(line) && emulator.state.jobs.has(jobId))
    .map(([, jobId]) => jobId);
}

/** Per input line, the job ids the journal ever pinned: each row must have exactly one. */
function pinnedJobs(journal: string): Map<number, Set<string>> {
  const pins = new Map<number, Set<string>>();
  for (const line of readFileSync(journal, 'utf8').split('\n')) {
    if (!line.includes('"t":"pin"')) continue;
    try {
      const record = JSON.parse(line) as { line: number; job_id: string };
      pins.set(record.line, new Set([...(pins.get(record.line) ?? []), record.job_id]));
    } catch {
      // a torn last line
    }
  }
  return pins;
}

/** Rows of the kill -9 run and of the SIGTERM run; the kill points scale with them. */
const KILL_ROWS = soak(30, 60);
const TERM_ROWS = soak(20, 40);

describe('smile bulk (subprocess)', () => {
  it(
    'kill -9 at several points, resume each time: every row registered exactly once',
    { timeout: 180_000 },
    async () => {
      const ids = userIds(KILL_ROWS, 'kill');
      const file = await writeCsv(ws, 'users.csv', ids);
      const journal = `${file}.smile-journal.jsonl`;
      const inFlight = () => {
        const pins = countRecords(journal, 'pin');
        const finals = countRecords(journal, 'final');
        return pins - finals;
      };

      // 1. The worst moment: a prep upload has landed (the emulator has the job) but its answer is not
      //    journaled yet. Resume must ask job_status and recover that job, not make a second one.
      let run = spawnBulk([file, '--concurrency', '6']);
      let exit = await signalWhen(run.child, run.exit, () => landedButNotJournaled(journal).length > 0, 'SIGKILL', 1);
      expect(exit.signal).toBe('SIGKILL');
      const landed = landedButNotJournaled(journal);
      expect(landed.length).toBeGreaterThan(0);
      expect(inFlight()).toBeGreaterThan(0);
      // kill -9 leaves the run's lock behind; its pid is dead, so the resume takes it over.
      expect(existsSync(`${journal}.lock`)).toBe(true);

      // 2. Resumed, killed again once more zips have been uploaded.
      const uploadedBefore = countRecords(journal, 'uploaded');
      run = spawnBulk([file, '--resume', '--concurrency', '6']);
      exit = await signalWhen(
        run.child,
        run.exit,
        () => countRecords(journal, 'uploaded') >= uploadedBefore + KILL_ROWS / 5,
        'SIGKILL',
      );
      expect(exit.signal).toBe('SIGKILL');
      expect(exit.stderr).toMatch(/Taking over the stale lock/);

      // 3. Resumed, killed while results arrive.
      const finalsBefore = countRecords(journal, 'final');
      run = spawnBulk([file, '--resume', '--concurrency', '6']);
      exit = await signalWhen(
        run.child,
        run.exit,
        () => countRecords(journal, 'final') >= finalsBefore + KILL_ROWS / 4,
        'SIGKILL',
      );
      expect(exit.signal).toBe('SIGKILL');
      expect(countRecords(journal, 'final')).toBeLessThan(KILL_ROWS);

      // 4. Resumed to the end.
      run = spawnBulk([file, '--resume', '--concurrency', '6', '--report', ws.path('report.jsonl'), '--json']);
      exit = await run.exit;
      expect(exit.stderr).not.toMatch(/✗/);
      expect(exit.code).toBe(0);
      expect(JSON.parse(exit.stdout)).toMatchObject({ rows: KILL_ROWS, succeeded: KILL_ROWS, exit_code: 0 });

      // The emulator's word: one job per user, approved, enrolled once; the journal pinned one job per row.
      expectEachRegisteredOnce(emulator, ids);
      // The jobs whose answer was lost at the first kill were finished with retry: true on the same job.
      for (const jobId of landed) {
        const job = emulator.state.jobs.get(jobId)!;
        expect(job.prepUploads.length).toBeGreaterThanOrEqual(2);
        expect(job.prepUploads.at(-1)!['retry']).toBe(true);
      }
      expect(emulator.state.jobs.size).toBe(KILL_ROWS);
      for (const jobs of pinnedJobs(journal).values()) expect(jobs.size).toBe(1);
      const report = await readJsonl(ws.path('report.jsonl'));
      expect(report.map((line) => line['user_id']).sort()).toEqual(ids);
      const pins = pinnedJobs(journal);
      for (const line of report) expect(pins.get(line['line'] as number)!.has(line['job_id'] as string)).toBe(true);
    },
  );

  it(
    'SIGTERM is a clean shutdown: exit 130, journal flushed, --resume finishes the rest',
    { timeout: 120_000 },
    async () => {
      const ids = userIds(TERM_ROWS, 'term');
      const file = await writeCsv(ws, 'users.csv', ids);
      const journal = `${file}.smile-journal.jsonl`;
      const run = spawnBulk([file, '--concurrency', '4']);
      const exit = await signalWhen(run.child, run.exit, () => countRecords(journal, 'final') >= 5, 'SIGTERM');
      expect(exit.code).toBe(130);
      expect(exit.stderr).toMatch(/Interrupted/);
      expect(exit.stderr).toMatch(/--resume/);
      // Flushed: the journal ends with a whole line; the lock is released.
      expect(readFileSync(journal, 'utf8').endsWith('\n')).toBe(true);
      expect(existsSync(`${journal}.lock`)).toBe(false);

      const resumed = spawnBulk([file, '--resume', '--json']);
      const done = await resumed.exit;
      expect(done.code).toBe(0);
      expectEachRegisteredOnce(emulator, ids);
    },
  );
});
