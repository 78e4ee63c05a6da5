/**
 * Issue 13, items 1, 2 and 7 through the CLI against the emulator over real HTTP: where the
 * location travels (the prep upload's `metadata`, as Smile ID's Android SDK sends it), what
 * --use-enrolled-image means for a registration (a new selfie always travels), and how liveness
 * frames are counted and sized.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, readJsonl, workspace } from './bulk-helpers.js';
import type { Workspace } from './bulk-helpers.js';

const SELFIE = 'fixtures/selfies/demo.jpg';
const FRAME = 'fixtures/selfies/liveness-1.jpg';
let emulator: RunningEmulator;
let ws: Workspace;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 20 });
  ws = await workspace();
});
afterAll(async () => {
  await emulator.close();
  await ws.cleanup();
});

const env = () => envFor(emulator, ws);

describe('--geo (item 1)', () => {
  it('travels as the Android `geolocation` metadatum of the prep upload, not as geo_info', async () => {
    const user = uid('geo');
    const run = await runCli(
      ['register', '--user-id', user, '--selfie', SELFIE, '--geo', '-1.2921,36.8219', '--json'],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job.geolocation).toEqual({
      latitude: -1.2921,
      longitude: 36.8219,
      accuracy: 'unknown',
      source: 'unknown',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const body = job.prepUploads[0]!;
    expect(body).not.toHaveProperty('geo_info');
    expect(body['metadata']).toEqual([
      {
        name: 'geolocation',
        value: { latitude: -1.2921, longitude: 36.8219, accuracy: 'unknown', source: 'unknown' },
        timestamp: job.geolocation!.timestamp,
      },
    ]);
    const info = job.zip!.info as { misc_information: Record<string, unknown> };
    expect(info.misc_information).not.toHaveProperty('geo_info');
  });

  it('an altitude is accepted but not sent (no Smile ID client sends one)', async () => {
    const run = await runCli(
      ['register', '--user-id', uid('alt'), '--selfie', SELFIE, '--geo', '-1.2921,36.8219,1795', '--json'],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(JSON.stringify(job.prepUploads[0])).not.toContain('1795');
    expect(job.geolocation).toMatchObject({ latitude: -1.2921, longitude: 36.8219 });
    expect(run.stderr).toMatch(/altitude .*not sent/i);
  });

  it('without --geo no metadata is sent', async () => {
    const run = await runCli(['register', '--user-id', uid('nogeo'), '--selfie', SELFIE, '--json'], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job.prepUploads[0]).not.toHaveProperty('metadata');
    expect(job.geolocation).toBeNull();
  });
});

describe('--use-enrolled-image (item 2)', () => {
  it('without a new selfie is refused before anything is sent (exit 2)', async () => {
    const before = emulator.state.requests.length;
    const run = await runCli(['register', '--user-id', uid('uei'), '--use-enrolled-image', '--json'], {
      env: env(),
    });
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/--use-enrolled-image .*--selfie/);
    expect(emulator.state.requests.length).toBe(before);
  });

  it('with --selfie replaces the selfie on file of an enrolled user: the new selfie travels', async () => {
    const user = uid('upd');
    expect((await runCli(['register', '--user-id', user, '--selfie', SELFIE], { env: env() })).code).toBe(0);
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--use-enrolled-image', '--json'], {
      env: env(),
    });
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job).toMatchObject({ useEnrolledImage: true, allowNewEnroll: true });
    expect(job.zip?.selfie).toEqual({ source: 'file', entry: 'selfie.jpg' });
  });

  it('with --selfie for a user with no selfie on file: 2216 from the emulator, exit 6', async () => {
    const run = await runCli(
      ['register', '--user-id', uid('none'), '--selfie', SELFIE, '--use-enrolled-image', '--json'],
      { env: env() },
    );
    expect(run.code).toBe(6);
    expect(run.stdout + run.stderr).toContain('2216');
  });

  it('bulk: a use_enrolled_image row without a selfie is refused with a reason, nothing sent for it', async () => {
    const file = ws.path('uei.csv');
    await writeFile(file, `user_id,selfie,use_enrolled_image\n${uid('b')},,true\n`);
    const before = emulator.state.requests.length;
    const run = await runCli(['bulk', file, '--json'], { env: env() });
    expect(run.code).not.toBe(0);
    const summary = run.json<{ first_failures: { reason: string }[] }>();
    expect(summary.first_failures[0]!.reason).toMatch(/use_enrolled_image .*selfie/);
    expect(emulator.state.requests.length).toBe(before);
  });
});

describe('liveness frames (item 7)', () => {
  it('are sized as the mobile SDKs send them: 320 px long side', async () => {
    const frames = Array.from({ length: 6 }, () => FRAME);
    const run = await runCli(
      ['register', '--user-id', uid('size'), '--selfie', SELFIE, '--liveness', ...frames, '--json'],
      {
        env: env(),
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job.zip?.livenessFrames).toBe(6);
    expect(job.zip?.livenessFrameSizes).toEqual(Array.from({ length: 6 }, () => ({ width: 256, height: 320 })));
    expect(run.stderr).not.toMatch(/liveness frames/i);
  });

  it('register warns on stderr outside 6–8 frames and still sends them', async () => {
    const run = await runCli(
      ['register', '--user-id', uid('few'), '--selfie', SELFIE, '--liveness', FRAME, FRAME, FRAME, '--json'],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/3 liveness frames.*6[–-]8/);
    const job = emulator.state.jobs.get(String(run.json()['job_id']))!;
    expect(job.zip?.livenessFrames).toBe(3);
  });

  it('bulk records the liveness_frame_count code in the row warnings', async () => {
    await writeFile(ws.path('photos/f.jpg'), await readFile(FRAME));
    const file = ws.path('few.csv');
    const frames = Array.from({ length: 9 }, () => 'photos/f.jpg').join(';');
    await writeFile(file, `user_id,selfie,liveness\n${uid('bf')},photos/face.jpg,${frames}\n`);
    const run = await runCli(['bulk', file, '--json', '--report', ws.path('few.jsonl')], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    const [row] = await readJsonl(ws.path('few.jsonl'));
    expect(row!['warnings']).toContain('liveness_frame_count');
  });
});
