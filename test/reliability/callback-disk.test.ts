/**
 * issue 9 item 3 (callback listener): a result is answered 200 only once its whole line is on
 * disk and flushed; a failed write answers 503, leaves the file ending in whole lines, and names
 * the file and the next step. A full disk is waited out (503 until there is room); a file that can
 * never be written again stops the listener with exit 5.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signedCallback, startListener, wholeLines } from './callback-listener.js';
import { tinyDisk, tinyDiskUnavailable } from './tiny-disk.js';
import { waitFor } from '../helpers/wait-for.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smile-callback-disk-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const prlimitUnavailable = ((): string | undefined => {
  if (process.platform !== 'linux') return 'RLIMIT_FSIZE via prlimit(1) is tested on Linux';
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'prlimit(1) (util-linux) is not installed';
  }
})();

describe('callback listen on a nearly full disk', () => {
  it.skipIf(tinyDiskUnavailable !== undefined)(
    `answers 503 for a result it could store only partly, keeps whole lines, and saves it on the retry once there is room${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`,
    async () => {
      const disk = tinyDisk(256);
      const out = join(disk.dir, 'results.jsonl');
      const listener = await startListener(['--out', out], { configDir: join(dir, 'config') });
      try {
        expect((await post(listener.url, signedCallback('u-1', 'job-1', { bytes: 3000 }))).status).toBe(200);
        const first = readFileSync(out, 'utf8');
        expect(wholeLines(first)).toHaveLength(1);
        // Leave no free page: the next record fits only into the slack of the file's last page.
        disk.leaveFree(0);
        expect(disk.free()).toBe(0);
        expect(4096 - (first.length % 4096)).toBeLessThan(3000);

        const second = signedCallback('u-2', 'job-2', { bytes: 3000 });
        const torn = await post(listener.url, second);
        expect(torn.status).toBe(503);
        expect(torn.headers.get('retry-after')).toMatch(/^\d+$/);
        // Nothing of the refused record stays behind, so the next one cannot be glued to it.
        expect(readFileSync(out, 'utf8')).toBe(first);
        // The answer and the warning travel on different pipes: wait for the line, then read it.
        await waitFor(() => /answered 503/.test(listener.stderr()), 'the warning about the refused write');
        expect(listener.stderr()).toContain(out);
        expect(listener.stderr()).toMatch(/disk is full.*answered 503/s);
        expect(listener.stderr()).toMatch(/[Ff]ree space/);

        // Still full: still 503, still whole lines, still running.
        expect((await post(listener.url, signedCallback('u-3', 'job-3', { bytes: 3000 }))).status).toBe(503);
        expect(readFileSync(out, 'utf8')).toBe(first);
        expect((await fetch(listener.url)).status).toBe(200);

        // Room again: the sender's retry of the refused result is saved, on its own line.
        for (const name of readdirSync(disk.dir)) if (name.startsWith('.filler-')) rmSync(join(disk.dir, name));
        expect((await post(listener.url, second)).status).toBe(200);
        const records = wholeLines(readFileSync(out, 'utf8'));
        expect(records.map((record) => record['job_id'])).toEqual(['job-1', 'job-2']);
        expect(listener.child.exitCode).toBeNull();
      } finally {
        const code = await listener.stop();
        disk.cleanup();
        expect(code).toBe(0);
      }
      expect(listener.stderr()).toMatch(/stopped: 2 verified results saved/);
    },
  );

  it.skipIf(!existsSync('/dev/full'))(
    'answers 503 (with a next step) when every write fails with ENOSPC (/dev/full), and keeps listening',
    async () => {
      const listener = await startListener(['--out', '/dev/full'], { configDir: join(dir, 'config') });
      try {
        const answer = await post(listener.url, signedCallback('u-1', 'job-1'));
        expect(answer.status).toBe(503);
        expect(await answer.json()).toMatchObject({ ok: false });
        await waitFor(() => /answered 503/.test(listener.stderr()), 'the warning about the refused write');
        expect(listener.stderr()).toMatch(
          /could not save the result of job job-1 .*to \/dev\/full: the disk is full \(ENOSPC\)/,
        );
        expect(listener.stderr()).toMatch(/[Ff]ree space on the disk holding \/dev\/full/);
        expect((await post(listener.url, signedCallback('u-2', 'job-2'))).status).toBe(503);
        expect(listener.child.exitCode).toBeNull();
      } finally {
        expect(await listener.stop()).toBe(0);
      }
      expect(listener.stdout()).toBe('');
    },
  );

  it.skipIf(prlimitUnavailable !== undefined)(
    `stops with exit 5 naming the file when it can never be written again (file size limit), after answering 503 and cutting the partial line${prlimitUnavailable ? ` (skipped: ${prlimitUnavailable})` : ''}`,
    async () => {
      const out = join(dir, 'limited.jsonl');
      const listener = await startListener(['--out', out], {
        configDir: join(dir, 'config'),
        wrapper: ['prlimit', '--fsize=4000', '--'],
      });
      let code: number | null = null;
      try {
        expect((await post(listener.url, signedCallback('u-1', 'job-1', { bytes: 3000 }))).status).toBe(200);
        const first = readFileSync(out, 'utf8');
        expect(first.length).toBeLessThan(4000);
        // Crosses the limit: part of it is written, then EFBIG.
        const answer = await post(listener.url, signedCallback('u-2', 'job-2', { bytes: 3000 }));
        expect(answer.status).toBe(503);
        expect(readFileSync(out, 'utf8')).toBe(first);
        code = await listener.exited;
      } finally {
        await listener.stop();
      }
      expect(code).toBe(5);
      expect(listener.stderr()).toContain(`Stopped: cannot write to ${out}`);
      expect(listener.stderr()).toMatch(/1 verified result was saved/);
      expect(listener.stderr()).not.toMatch(/This is a bug|at .*\.js:\d+/);
    },
  );

  it('starts a new line when the file it appends to ends with a torn line (an earlier crash)', async () => {
    const out = join(dir, 'torn.jsonl');
    writeFileSync(out, '{"job_id":"job-0"}\n{"job_id":"job-tor');
    const listener = await startListener(['--out', out], { configDir: join(dir, 'config') });
    try {
      expect((await post(listener.url, signedCallback('u-1', 'job-1'))).status).toBe(200);
    } finally {
      expect(await listener.stop()).toBe(0);
    }
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toBe('{"job_id":"job-0"}');
    expect(lines[1]).toBe('{"job_id":"job-tor');
    expect(JSON.parse(lines[2]!)).toMatchObject({ job_id: 'job-1', signature_verified: true });
    expect(lines[3]).toBe('');
    expect(listener.stderr()).toMatch(
      new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ends with an incomplete line`),
    );
  });
});
