/**
 * The face check with the real detector (onnxruntime-node, the BlazeFace models) on the real
 * photos of fixtures/faces/ (fixtures/README.md): what `selfie check` says of each, that people of
 * several skin tones pass, and that `register` and `bulk` send no faceless photo.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, workspace } from './bulk-helpers.js';
import type { Workspace } from './bulk-helpers.js';

const FACES = 'fixtures/faces/';

interface CheckedFile {
  path: string;
  ok: boolean;
  face_check: string | null;
  faces: number | null;
  findings: Array<{ code: string; severity: string; message: string }>;
}

/** `smile selfie check FILES --json`: the exit code and each file's face findings (code:severity). */
async function check(files: string[], extra: string[] = []): Promise<{ code: number; files: CheckedFile[] }> {
  const run = await runCli(['selfie', 'check', ...files, '--json', ...extra]);
  return { code: run.code, files: run.json<{ files: CheckedFile[] }>().files };
}

const faceCodes = (file: CheckedFile | undefined): string[] =>
  (file?.findings ?? []).filter((f) => /face/.test(f.code)).map((f) => `${f.code}:${f.severity}`);

let emulator: RunningEmulator;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 50 });
});
afterAll(async () => {
  await emulator.close();
});

describe('smile selfie check: faces', () => {
  // Light to dark skin (fixtures/README.md): none may be refused.
  const people = ['grace-hopper', 'astronaut', 'brown-man', 'dwayne-johnson', 'john-salley'];

  it('passes one real face of every skin tone, with no finding at all', async () => {
    const { code, files } = await check(people.map((name) => `${FACES}one-face-${name}.jpg`));
    expect(code).toBe(0);
    for (const file of files) {
      expect({ path: file.path, face_check: file.face_check, faces: file.faces, findings: file.findings }).toEqual({
        path: file.path,
        face_check: 'passed',
        faces: 1,
        findings: [],
      });
    }
  });

  it('passes every selfie fixture that other tests send (real faces)', async () => {
    const { code, files } = await check([
      'fixtures/selfies/demo.jpg',
      'fixtures/selfies/selfie-960x1200.jpg',
      'fixtures/selfies/selfie-progressive.jpg',
      'fixtures/selfies/selfie-with-exif.jpg',
    ]);
    expect(code).toBe(0);
    expect(files.map((file) => file.face_check)).toEqual(['passed', 'passed', 'passed', 'passed']);
  });

  it.each([
    ['blank-wall.jpg', 'no_face'],
    ['building.jpg', 'no_face'],
    ['cat.jpg', 'no_face'],
    ['mandrill.jpg', 'no_face'],
    ['text-page.jpg', 'no_face'],
    ['group-photo.jpg', 'multiple_faces'],
    ['two-faces.jpg', 'multiple_faces'],
  ])('refuses %s with %s (exit 4)', async (name, expected) => {
    const { code, files } = await check([`${FACES}${name}`]);
    expect(code).toBe(4);
    expect(files[0]?.face_check).toBe('failed');
    expect(faceCodes(files[0])).toEqual([`${expected}:error`]);
  });

  it('counts the people of a group photo', async () => {
    const { files } = await check([`${FACES}group-photo.jpg`, `${FACES}two-faces.jpg`]);
    expect(files.map((file) => file.faces)).toEqual([3, 2]);
    expect(files[0]?.findings[0]?.message).toMatch(/^3 faces were found/);
  });

  it.each([
    ['face-too-small.jpg', ['face_too_small:warning']],
    ['face-off-centre.jpg', ['face_too_small:warning', 'face_off_centre:warning']],
    ['face-cut-off.jpg', ['face_cut_off:warning']],
    ['face-rotated-90.jpg', ['face_rolled:warning']],
    ['face-turned.jpg', ['face_turned:warning']],
  ])('warns about %s but lets it be sent', async (name, expected) => {
    const { code, files } = await check([`${FACES}${name}`]);
    expect(code).toBe(0);
    expect(files[0]?.face_check).toBe('passed');
    expect(faceCodes(files[0])).toEqual(expected);
  });

  it('says which way to turn a photo on its side', async () => {
    const { files } = await check([`${FACES}face-rotated-90.jpg`]);
    expect(files[0]?.findings.find((f) => f.code === 'face_rolled')?.message).toMatch(/on its side.*turned 270°/);
  });

  it('--skip-face-check lets a faceless photo through, and says so', async () => {
    const { code, files } = await check([`${FACES}cat.jpg`], ['--skip-face-check']);
    expect(code).toBe(0);
    expect(files[0]?.face_check).toBe('skipped');
    expect(faceCodes(files[0])).toEqual(['face_check_skipped:warning']);
  });

  it('liveness frames need a face too, but may be turned', async () => {
    const { code, files } = await check([`${FACES}face-turned.jpg`, `${FACES}cat.jpg`], ['--liveness']);
    expect(code).toBe(4);
    expect(faceCodes(files[0])).toEqual([]);
    expect(faceCodes(files[1])).toEqual(['no_face:error']);
  });
});

describe('smile explain: selfie codes', () => {
  it('explains a face code, either spelling, in text and JSON', async () => {
    const text = await runCli(['explain', 'face-turned']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^face_turned · Head turned \(selfie check\)/);
    expect(text.stdout).toContain('Warning: the photo is still sent');
    const json = await runCli(['explain', 'no_face', '--json']);
    expect(json.json()).toMatchObject({ ok: true, code: 'no_face', family: 'selfie', severity: 'error' });
    expect(String(json.json()['hint'])).toContain('--skip-face-check');
  });

  it('still refuses a code nobody knows (exit 2)', async () => {
    expect((await runCli(['explain', 'no_such_finding'])).code).toBe(2);
  });
});

describe('smile register: faces', () => {
  const env = () => ({
    SMILE_PARTNER_ID: emulator.partnerId,
    SMILE_API_KEY: emulator.apiKey,
    SMILE_BASE_URL: emulator.baseUrl,
    SMILE_CONFIG_DIR: '/nonexistent/smile-test-config',
  });

  it('a selfie without a face exits 4 and sends nothing', async () => {
    const before = emulator.state.requests.length;
    const run = await runCli(['register', '--user-id', uid('cat'), '--selfie', `${FACES}cat.jpg`, '--json'], {
      env: env(),
    });
    expect(run.code).toBe(4);
    expect(run.json()).toMatchObject({ ok: false, error: { code: 'no_face' } });
    expect(emulator.state.requests.length).toBe(before);
  });

  it('a group photo exits 4 and sends nothing, also as a liveness frame', async () => {
    const before = emulator.state.requests.length;
    const args = ['register', '--user-id', uid('group'), '--json'];
    const selfie = await runCli([...args, '--selfie', `${FACES}group-photo.jpg`], { env: env() });
    expect(selfie.json()).toMatchObject({ ok: false, error: { code: 'multiple_faces' } });
    const frames = await runCli(
      [...args, '--selfie', 'fixtures/selfies/demo.jpg', '--liveness', `${FACES}two-faces.jpg`],
      { env: env() },
    );
    expect([selfie.code, frames.code]).toEqual([4, 4]);
    expect(emulator.state.requests.length).toBe(before);
  });

  it('records face_check in the JSON: passed, or skipped with --skip-face-check', async () => {
    const good = await runCli(
      ['register', '--user-id', uid('ok'), '--selfie', `${FACES}one-face-john-salley.jpg`, '--json'],
      {
        env: env(),
      },
    );
    expect(good.code).toBe(0);
    expect(good.json()).toMatchObject({ outcome: 'approved', face_check: 'passed' });
    const skipped = await runCli(
      ['register', '--user-id', uid('skip'), '--selfie', `${FACES}cat.jpg`, '--skip-face-check', '--json'],
      { env: env() },
    );
    expect(skipped.code).toBe(0);
    expect(skipped.json()).toMatchObject({ outcome: 'approved', face_check: 'skipped' });
  });
});

describe('smile bulk: faces', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await workspace();
    for (const name of ['cat.jpg', 'group-photo.jpg', 'one-face-dwayne-johnson.jpg'])
      await writeFile(ws.path(`photos/${name}`), await readFile(`${FACES}${name}`));
  });
  afterAll(async () => ws.cleanup());

  it('refuses faceless and group rows with the reason, and registers the others', async () => {
    const file = ws.path('faces.csv');
    const p = `p${process.pid}-${++seq}`;
    await writeFile(
      file,
      `user_id,selfie\n${p}-a,photos/face.jpg\n${p}-cat,photos/cat.jpg\n${p}-group,photos/group-photo.jpg\n${p}-b,photos/one-face-dwayne-johnson.jpg\n`,
    );
    const report = ws.path(`faces-${p}.jsonl`);
    const run = await runCli(['bulk', file, '--report', report, '--json'], { env: envFor(emulator, ws) });
    expect(run.code).not.toBe(0);
    const rows = (await readFile(report, 'utf8'))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { user_id: string; outcome: string; error?: { code?: string; message?: string } | null },
      );
    const byUser = new Map(rows.map((row) => [row.user_id, row]));
    expect(byUser.get(`${p}-a`)?.outcome).toBe('approved');
    expect(byUser.get(`${p}-b`)?.outcome).toBe('approved');
    expect(byUser.get(`${p}-cat`)?.outcome).toBe('invalid');
    expect(JSON.stringify(byUser.get(`${p}-cat`))).toContain('No human face');
    expect(byUser.get(`${p}-group`)?.outcome).toBe('invalid');
    expect(JSON.stringify(byUser.get(`${p}-group`))).toContain('3 faces were found');
  });

  it('--skip-face-check sends them, with the skip in every row', async () => {
    const file = ws.path('skip.csv');
    const p = `s${process.pid}-${++seq}`;
    await writeFile(file, `user_id,selfie\n${p}-cat,photos/cat.jpg\n`);
    const report = ws.path(`skip-${p}.jsonl`);
    const run = await runCli(['bulk', file, '--report', report, '--skip-face-check', '--json'], {
      env: envFor(emulator, ws),
    });
    expect(run.code).toBe(0);
    const row = JSON.parse((await readFile(report, 'utf8')).trim()) as { outcome: string; warnings: string[] };
    expect(row.outcome).toBe('approved');
    expect(row.warnings).toContain('face_check_skipped');
  });
});
