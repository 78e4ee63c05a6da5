/**
 * Issue 9 item 12: the emulator's --state-file is an append-only JSONL log (compacted), selfies live
 * as files beside it, a failed save is said on stderr and answered with a failing status.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliOnStreams } from '../helpers/run-command.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { InputError, SmileCliError } from '../../src/errors.js';
import {
  ids,
  jobStatus,
  makeZip,
  postJson,
  prepBody,
  prepUpload,
  putZip,
  register,
  waitForResult,
} from '../unit/emulator/helpers.js';
import { childEnv } from '../helpers/child-env.js';
import { until } from '../helpers/wait-for.js';
import { tinyDisk, tinyDiskUnavailable } from './tiny-disk.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'smile-emustate-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A distinct "JPEG" (the emulator only checks the SOI marker) of about `size` bytes. */
function selfieBytes(size = 2048): Uint8Array {
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...randomBytes(size), 0xff, 0xd9]);
}

function zipWith(selfie: Uint8Array): Uint8Array {
  return makeZip({ files: { 'selfie.jpg': selfie } });
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

function header(file: string): Record<string, unknown> {
  return JSON.parse(lines(file)[0] ?? 'null') as Record<string, unknown>;
}

async function imageOf(emu: RunningEmulator, userId: string, jobId: string): Promise<Buffer> {
  const status = await jobStatus(emu, userId, jobId, { image_links: true });
  const link = status.body.image_links?.selfie_image;
  if (typeof link !== 'string') throw new Error(`no image link: ${status.text}`);
  const response = await fetch(link);
  if (response.status !== 200) throw new Error(`image ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('emulator state file: an append-only log', () => {
  it('survives a restart: users, jobs, results, enrolled images, pending uploads, use_enrolled_image', async () => {
    const stateFile = join(tempDir(), 'nested', 'state.jsonl');
    const notes: string[] = [];
    const first = await startEmulator({ stateFile, processingMs: 1, humanReviewMs: 1, warn: (m) => notes.push(m) });
    const approved = { ...ids(), selfie: selfieBytes() };
    const rejected = { ...ids(), selfie: selfieBytes() };
    const provisional = { ...ids(), selfie: selfieBytes() };
    const pending = ids();
    let prep: Awaited<ReturnType<typeof prepUpload>>;
    const before: Record<string, unknown> = {};
    try {
      before.approved = (await register(first, { ...approved, zip: zipWith(approved.selfie) })).result;
      before.rejected = (
        await register(first, { ...rejected, sandboxResult: '1', zip: zipWith(rejected.selfie) })
      ).result;
      before.provisional = (
        await register(first, { ...provisional, sandboxResult: '2', final: true, zip: zipWith(provisional.selfie) })
      ).result;
      prep = await prepUpload(first, pending);
      expect(prep.status).toBe(200);
    } finally {
      await first.close();
    }
    expect(header(stateFile)).toMatchObject({ format: 'smile-emulator-state', version: 2 });
    expect(lines(stateFile).length).toBeGreaterThan(3);
    // No image bytes in the log itself: they are files beside it.
    expect(readFileSync(stateFile, 'utf8')).not.toContain(Buffer.from(approved.selfie).toString('base64').slice(0, 40));

    const second = await startEmulator({ stateFile, processingMs: 1, warn: (m) => notes.push(m) });
    try {
      expect(second.state.users.get(approved.userId)).toMatchObject({
        enrolled: true,
        enrollments: 1,
        enrolledJobIds: [approved.jobId],
      });
      expect(second.state.users.get(rejected.userId)?.enrolled).toBe(false);
      expect(second.state.users.get(provisional.userId)?.enrolled).toBe(true);
      for (const [name, who] of [
        ['approved', approved],
        ['rejected', rejected],
        ['provisional', provisional],
      ] as const) {
        const status = await jobStatus(second, who.userId, who.jobId);
        expect(status.body.result, name).toEqual(before[name]);
        expect(Buffer.from(await imageOf(second, who.userId, who.jobId)).equals(Buffer.from(who.selfie)), name).toBe(
          true,
        );
        expect(Buffer.from(second.state.selfieOf(who.jobId) ?? []).equals(Buffer.from(who.selfie)), name).toBe(true);
      }
      expect(
        (await jobStatus(second, provisional.userId, provisional.jobId, { history: true })).body.history,
      ).toHaveLength(2);
      expect(
        (await prepUpload(second, { userId: approved.userId, jobId: `${approved.jobId}-again` })).body,
      ).toMatchObject({ code: '2209' });

      // Appended, never rewritten: what is on disk now stays a prefix of the file.
      const onDisk = readFileSync(stateFile);
      const url = prep.body.upload_url.replace(new URL(prep.body.upload_url).origin, second.origin);
      expect((await putZip(url, makeZip())).status).toBe(200);
      expect((await waitForResult(second, pending.userId, pending.jobId)).job_success).toBe(true);
      // use_enrolled_image: the selfie on file is still known after the restart (no 2216); a job_type 4
      // always carries the new selfie that replaces it (issue 13 item 2).
      const again = { userId: approved.userId, jobId: `${approved.jobId}-enrolled-image` };
      const reuse = await prepUpload(second, { ...again, extra: { use_enrolled_image: true, allow_new_enroll: true } });
      expect(reuse.status).toBe(200);
      expect((await putZip(reuse.body.upload_url, makeZip())).status).toBe(200);
      expect((await waitForResult(second, again.userId, again.jobId)).job_success).toBe(true);
      const grown = readFileSync(stateFile);
      expect(grown.length).toBeGreaterThan(onDisk.length);
      expect(grown.subarray(0, onDisk.length).equals(onDisk)).toBe(true);
      const next = await prepUpload(second, ids());
      expect(Number(next.body.smile_job_id)).toBe(Number(prep.body.smile_job_id) + 2);
    } finally {
      await second.close();
    }
    expect(notes).toEqual([]);
  });

  it('holds no selfie in memory however many jobs arrive; images are read back from files', async () => {
    const stateFile = join(tempDir(), 'state.jsonl');
    const emu = await startEmulator({ stateFile, processingMs: 1 });
    const jobs: { userId: string; jobId: string; selfie: Uint8Array }[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const job = { ...ids(), selfie: selfieBytes(4096) };
        await register(emu, { ...job, zip: zipWith(job.selfie) });
        jobs.push(job);
        expect(emu.state.selfiesInMemory()).toBe(0);
      }
      for (const job of jobs.slice(0, 3))
        expect(Buffer.from(await imageOf(emu, job.userId, job.jobId)).equals(Buffer.from(job.selfie))).toBe(true);
      expect(emu.state.selfiesInMemory()).toBe(0);
    } finally {
      await emu.close();
    }
    const again = await startEmulator({ stateFile });
    try {
      expect(again.state.selfiesInMemory()).toBe(0);
      for (const job of jobs)
        expect(Buffer.from(again.state.selfieOf(job.jobId) ?? []).equals(Buffer.from(job.selfie))).toBe(true);
      expect(again.state.selfiesInMemory()).toBe(0);
    } finally {
      await again.close();
    }
  });

  it('does not grow without bound: the log is compacted while running and at start', async () => {
    const stateFile = join(tempDir(), 'state.jsonl');
    const emu = await startEmulator({ stateFile, processingMs: 1 });
    // Every prep upload is counted (even a refused one): one record each, with a live state that stays one counter.
    const who = { userId: `u-${'x'.repeat(4000)}`, jobId: 'job-compaction' };
    const sizes: number[] = [];
    const posts = 300;
    try {
      for (let i = 0; i < posts; i++) {
        const res = await postJson(`${emu.baseUrl}/upload`, prepBody(emu, { ...who, apiKey: 'wrong-key' }));
        expect(res.status).toBe(401);
        sizes.push(statSync(stateFile).size);
      }
      expect(emu.state.prepUploadCount(who.userId, who.jobId)).toBe(posts);
    } finally {
      await emu.close();
    }
    expect(header(stateFile)).toMatchObject({ format: 'smile-emulator-state' });
    const peak = Math.max(...sizes);
    // 300 records of ~4 KB would be 1.2 MB; compaction keeps the log within a small multiple of the live state.
    expect(peak).toBeLessThan(600 * 1024);
    expect(sizes.some((size, i) => i > 0 && size < (sizes[i - 1] ?? 0) / 2)).toBe(true);
    const again = await startEmulator({ stateFile });
    try {
      expect(again.state.prepUploadCount(who.userId, who.jobId)).toBe(posts);
      // Compacted at start: one counter left, about one record's size.
      expect(statSync(stateFile).size).toBeLessThan(16 * 1024);
    } finally {
      await again.close();
    }
  });

  it('migrates the old whole-file format once, selfies included', async () => {
    const stateFile = join(tempDir(), 'state.json');
    const selfie = selfieBytes();
    const { userId, jobId } = ids();
    const result = {
      Actions: { Register_Selfie: 'Approved' },
      ConfidenceValue: '100',
      IsFinalResult: 'true',
      IsMachineResult: 'true',
      JSONVersion: '1.0.0',
      PartnerParams: { job_id: jobId, user_id: userId, job_type: '4' },
      ResultCode: '0810',
      ResultText: 'Enroll User',
      ResultType: 'SAIA',
      SmileJobID: '0000000007',
      Source: 'WebAPI',
    };
    const refId = `085-0000000007-${'a'.repeat(30)}`;
    const job = {
      jobId,
      userId,
      jobType: 4,
      smileJobId: '0000000007',
      refIds: [refId],
      createdAt: new Date().toISOString(),
      partnerParams: { job_id: jobId, user_id: userId, job_type: '4' },
      sandboxResult: '0',
      callbackUrl: null,
      allowNewEnroll: false,
      useEnrolledImage: false,
      prepUploads: [{}],
      status: 'complete',
      zip: {
        receivedAt: new Date().toISOString(),
        bytes: 100,
        entries: ['info.json', 'selfie.jpg'],
        entrySizes: {},
        info: {},
        selfie: { source: 'file', entry: 'selfie.jpg' },
        livenessFrames: 0,
        problem: null,
      },
      puts: 1,
      readyAt: Date.now(),
      reviewAt: null,
      jobComplete: true,
      jobSuccess: true,
      result,
      results: [result],
    };
    const old = {
      version: 1,
      secret: 'ab'.repeat(32),
      counter: 7,
      users: [{ userId, enrolled: true, enrollments: 1, enrolledJobIds: [jobId], createdAt: new Date().toISOString() }],
      jobs: [job],
      selfies: { [jobId]: Buffer.from(selfie).toString('base64') },
      prepUploadCounts: { [JSON.stringify([userId, jobId])]: 1 },
    };
    writeFileSync(stateFile, JSON.stringify(old));
    const notes: string[] = [];
    const emu = await startEmulator({ stateFile, warn: (m) => notes.push(m) });
    try {
      expect(notes.join('\n')).toMatch(/migrated/i);
      expect((await jobStatus(emu, userId, jobId)).body.result).toEqual(result);
      expect(Buffer.from(await imageOf(emu, userId, jobId)).equals(Buffer.from(selfie))).toBe(true);
      expect(emu.state.selfiesInMemory()).toBe(0);
      expect(Number((await prepUpload(emu, ids())).body.smile_job_id)).toBe(8);
    } finally {
      await emu.close();
    }
    expect(header(stateFile)).toMatchObject({ format: 'smile-emulator-state', version: 2 });
    const later: string[] = [];
    const again = await startEmulator({ stateFile, warn: (m) => later.push(m) });
    try {
      expect(later).toEqual([]);
      expect(again.state.users.get(userId)?.enrolled).toBe(true);
      expect(Buffer.from(again.state.selfieOf(jobId) ?? []).equals(Buffer.from(selfie))).toBe(true);
    } finally {
      await again.close();
    }
  });

  it('drops a torn last line (never acknowledged) with a notice, and refuses damage in the middle by line number', async () => {
    const stateFile = join(tempDir(), 'state.jsonl');
    const first = await startEmulator({ stateFile, processingMs: 1 });
    const done = ids();
    try {
      await register(first, done);
    } finally {
      await first.close();
    }
    appendFileSync(stateFile, '{"t":"job","v":{"jobId":"half');
    // A compaction cut short by a crash leaves its temp file: removed at the next start.
    const staleTemp = `${stateFile}.4242.deadbeef.tmp`;
    writeFileSync(staleTemp, '{"t":"header"');
    const notes: string[] = [];
    const second = await startEmulator({ stateFile, warn: (m) => notes.push(m) });
    try {
      expect(notes.join('\n')).toMatch(/incomplete last line/i);
      expect(existsSync(staleTemp)).toBe(false);
      expect(second.state.users.get(done.userId)?.enrolled).toBe(true);
    } finally {
      await second.close();
    }
    const text = lines(stateFile);
    text.splice(1, 0, '{not json');
    writeFileSync(stateFile, `${text.join('\n')}\n`);
    const refused = await startEmulator({ stateFile }).then(
      async (emu) => {
        await emu.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as Error).message).toContain(stateFile);
    expect((refused as Error).message).toMatch(/line 2/);
  });
});

describe('emulator state file: one emulator at a time', () => {
  it('refuses a second emulator on a state file in use, and starts once the first has closed', async () => {
    const stateFile = join(tempDir(), 'state.jsonl');
    const first = await startEmulator({ stateFile });
    let second: RunningEmulator | undefined;
    try {
      const refused = await startEmulator({ stateFile }).then(
        (emu) => {
          second = emu;
          return undefined;
        },
        (error: unknown) => error as SmileCliError,
      );
      expect(refused).toBeInstanceOf(SmileCliError);
      expect(refused?.message).toMatch(/state file .* is in use by another process: smile emulator \(pid \d+/);
    } finally {
      await second?.close();
      await first.close();
    }
    const third = await startEmulator({ stateFile });
    await third.close();
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
  });
});

describe('emulator state file: kill -9', () => {
  it('keeps every acknowledged change when the emulator process is killed', async () => {
    const stateFile = join(tempDir(), 'state.jsonl');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'smile.js'),
        'emulator',
        '--json',
        '--port',
        '0',
        '--processing-ms',
        '1',
        '--state-file',
        stateFile,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnv(tempDir()),
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    try {
      const info = JSON.parse(await until(() => (out.includes('\n') ? out : undefined), 'emulator start')) as Record<
        string,
        string
      >;
      const remote = {
        baseUrl: info.base_url,
        origin: new URL(info.base_url ?? '').origin,
        partnerId: info.partner_id,
        apiKey: info.api_key,
      } as RunningEmulator;
      const done = { ...ids(), selfie: selfieBytes() };
      await register(remote, { ...done, zip: zipWith(done.selfie) });
      const pending = ids();
      expect((await prepUpload(remote, pending)).status).toBe(200);
      // While it runs, a second emulator on the same state file is refused, naming it.
      const refused = await startEmulator({ stateFile }).then(
        async (second) => {
          await second.close();
          return undefined;
        },
        (error: unknown) => error as SmileCliError,
      );
      expect(refused?.code).toBe('state_file_locked');
      expect(refused?.exitCode).toBe(2);
      expect(refused?.message).toContain(`pid ${child.pid}`);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const again = await startEmulator({ stateFile });
      try {
        expect(again.state.users.get(done.userId)?.enrolled).toBe(true);
        expect(again.state.jobs.get(done.jobId)?.result).toMatchObject({ ResultCode: '0840' });
        expect(Buffer.from(again.state.selfieOf(done.jobId) ?? []).equals(Buffer.from(done.selfie))).toBe(true);
        expect(again.state.jobs.get(pending.jobId)?.status).toBe('awaiting_zip');
      } finally {
        await again.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe.skipIf(tinyDiskUnavailable !== undefined)(
  `emulator state file on a full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`,
  () => {
    it('says so on stderr and answers 500 while it cannot save; saves the backlog once space is back', async () => {
      const disk = tinyDisk(512);
      try {
        const stateFile = join(disk.dir, 'emu', 'state.jsonl');
        const out = capture();
        const err = capture();
        const controller = new AbortController();
        const running = runCliOnStreams(
          ['emulator', '--json', '--processing-ms', '1', '--state-file', stateFile],
          { stdout: out.stream, stderr: err.stream },
          { signal: controller.signal },
        );
        const info = JSON.parse(await until(() => (out.text().includes('\n') ? out.text() : undefined))) as Record<
          string,
          string
        >;
        const emu = {
          baseUrl: info.base_url,
          origin: new URL(info.base_url ?? '').origin,
          partnerId: info.partner_id,
          apiKey: info.api_key,
        } as RunningEmulator;
        let stopped = false;
        try {
          const before = ids();
          await register(emu, before);

          disk.leaveFree(0);
          // A record bigger than a page, so it cannot slip into the slack of the log's last page.
          const during = { ...ids(), params: { note: 'n'.repeat(8192) } };
          const refused = await prepUpload(emu, during);
          expect(refused.status).toBe(500);
          expect(refused.text).toMatch(/state/i);
          expect(err.text()).toContain(stateFile);
          expect(err.text()).toMatch(/could not save/i);
          // Nothing is acknowledged while the backlog is unsaved.
          const status = await jobStatus(emu, before.userId, before.jobId);
          expect(status.status).toBe(500);

          for (const name of readdirSync(disk.dir)) if (name.startsWith('.filler')) rmSync(join(disk.dir, name));
          const prep = await postJson<{ upload_url: string }>(`${emu.baseUrl}/upload`, {
            ...prepBody(emu, during),
            retry: true,
          });
          expect(prep.status).toBe(200);
          expect((await putZip(prep.body.upload_url, makeZip())).status).toBe(200);
          expect((await waitForResult(emu, during.userId, during.jobId)).job_success).toBe(true);
          expect(err.text()).toMatch(/saved again/i);
          controller.abort();
          expect(await running).toBe(0);
          stopped = true;
          expect(err.text()).not.toContain('    at ');

          const again = await startEmulator({ stateFile });
          try {
            expect(again.state.users.get(before.userId)?.enrolled).toBe(true);
            expect(again.state.users.get(during.userId)?.enrolled).toBe(true);
            expect(again.state.jobs.get(during.jobId)?.partnerParams.note).toHaveLength(8192);
          } finally {
            await again.close();
          }
        } finally {
          if (!stopped) {
            controller.abort();
            await running.catch(() => undefined);
          }
        }
      } finally {
        disk.cleanup();
      }
    });

    it('fails close() naming the file when changes are left unsaved', async () => {
      const disk = tinyDisk(256);
      try {
        const stateFile = join(disk.dir, 'state.jsonl');
        const notes: string[] = [];
        const emu = await startEmulator({ stateFile, processingMs: 1, warn: (m) => notes.push(m) });
        disk.leaveFree(0);
        expect((await prepUpload(emu, { ...ids(), params: { note: 'n'.repeat(8192) } })).status).toBe(500);
        const closed = await emu.close().then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(closed).toBeInstanceOf(SmileCliError);
        expect((closed as SmileCliError).message).toContain(stateFile);
        expect((closed as SmileCliError).message).toMatch(/disk is full/);
        expect((closed as SmileCliError).exitCode).toBe(5);
        expect(notes.join('\n')).toMatch(/could not save/);
      } finally {
        disk.cleanup();
      }
    });

    it('refuses to start, naming the file, when the state file cannot be written at all', async () => {
      const disk = tinyDisk(64);
      try {
        const stateFile = join(disk.dir, 'state.jsonl');
        disk.leaveFree(0);
        const refused = await startEmulator({ stateFile }).then(
          async (emu) => {
            await emu.close();
            return undefined;
          },
          (error: unknown) => error,
        );
        expect((refused as Error | undefined)?.message ?? 'started').toContain(stateFile);
        expect(existsSync(stateFile) ? statSync(stateFile).size : 0).toBe(0);
      } finally {
        disk.cleanup();
      }
    });
  },
);
