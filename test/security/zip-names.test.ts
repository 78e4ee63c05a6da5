/** Paths inside the zip are the tool's own names, never taken from input (file names, ids, params). */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { MARKED_KEY } from './helpers.js';

let dir: string;
let emulator: RunningEmulator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-zipnames-'));
  emulator = await startEmulator({ port: 0, apiKey: MARKED_KEY, processingMs: 30 });
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({
  SMILE_PARTNER_ID: emulator.partnerId,
  SMILE_API_KEY: MARKED_KEY,
  SMILE_BASE_URL: emulator.baseUrl,
  SMILE_CONFIG_DIR: join(dir, 'none'),
});

describe('zip entry names', () => {
  it('are selfie.jpg, liveness-NN.jpg and info.json whatever the input files are called', async () => {
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    // Traversal in the path as given, and a name full of characters that mean something to shells, zips and Windows.
    await copyFile(resolve('fixtures/selfies/demo.jpg'), join(dir, 'evil.jpg'));
    const traversal = join(dir, 'a', 'b', '..', '..', 'evil.jpg');
    const odd = join(dir, '..\\..\\ünïcødé $(touch pwned); `id` \'"<>|*?\n.jpg');
    await copyFile(resolve('fixtures/selfies/liveness-1.jpg'), odd);
    const slashy = join(dir, 'a', 'C:\\Windows\\system32\\frame.jpg');
    await copyFile(resolve('fixtures/selfies/liveness-2.jpg'), slashy);

    const userId = '../../etc/passwd';
    const jobId = 'job-../../zip-slip';
    const run = await runCli(
      [
        'register',
        '--user-id',
        userId,
        '--job-id',
        jobId,
        '--selfie',
        traversal,
        '--liveness',
        odd,
        slashy,
        '--param',
        'file_name=../../x.jpg',
        '--json',
      ],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(jobId)!;
    expect(job.zip?.entries.slice().sort()).toEqual(['info.json', 'liveness-01.jpg', 'liveness-02.jpg', 'selfie.jpg']);
    const info = job.zip?.info as { images: { file_name?: string; image_type_id: number }[] };
    expect(info.images.map((image) => image.file_name).sort()).toEqual([
      'liveness-01.jpg',
      'liveness-02.jpg',
      'selfie.jpg',
    ]);
    for (const entry of job.zip!.entries) {
      expect(entry).toMatch(/^[a-z0-9.-]+$/);
      expect(entry).not.toContain('..');
    }
  });
});
