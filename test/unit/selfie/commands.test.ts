import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD, BAD_FIXTURES, GOOD, captureIo, runSelfieCheck, runSelfiePrepare } from './helpers.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001B\[[0-9;]*m/g, '');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-selfie-cmd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ALL_BAD = readdirSync(BAD).map((f) => `${BAD}${f}`);

describe('runSelfieCheck', () => {
  it('exits 0 for good files, with a human report on stdout', async () => {
    const io = captureIo();
    const code = await runSelfieCheck([`${GOOD}demo.jpg`, `${BAD}very-dark.jpg`], { json: false, color: false }, io);
    expect(code).toBe(0);
    expect(io.stdout.text).toContain(`✓ ${GOOD}demo.jpg  JPEG 640×800`);
    expect(io.stdout.text).toMatch(/\n {4}warning too_dark: The photo is too dark/);
    expect(io.stdout.text).toContain('2 files checked: 2 can be sent (1 with warnings).');
    expect(io.stdout.text).not.toContain('\u001b[');
    expect(io.stderr.text).toBe('');
  });

  it('over every file of fixtures/bad: never throws, exits 4, one JSON document of the exact shape', async () => {
    const io = captureIo();
    const code = await runSelfieCheck(ALL_BAD, { json: true, color: false }, io);
    expect(code).toBe(4);
    const doc = JSON.parse(io.stdout.text) as { ok: boolean; files: Array<Record<string, unknown>> };
    expect(Object.keys(doc)).toEqual(['ok', 'files']);
    expect(doc.ok).toBe(false);
    expect(doc.files.map((f) => f.path)).toEqual(ALL_BAD);
    for (const file of doc.files) {
      expect(Object.keys(file)).toEqual([
        'path',
        'ok',
        'format',
        'width',
        'height',
        'bytes',
        'face_check',
        'faces',
        'findings',
      ]);
      const expected = BAD_FIXTURES[basename(String(file.path))];
      expect(
        (file.findings as Array<{ code: string; severity: string }>).map(
          (finding) => `${finding.code}:${finding.severity}`,
        ),
        String(file.path),
      ).toEqual(expected);
      expect(file.ok, String(file.path)).toBe(!expected?.some((finding) => finding.endsWith(':error')));
      expect(typeof file.ok).toBe('boolean');
      expect(typeof file.bytes).toBe('number');
      for (const finding of file.findings as Array<Record<string, unknown>>) {
        expect(Object.keys(finding)).toEqual(['code', 'severity', 'message']);
        expect(['error', 'warning']).toContain(finding.severity);
      }
    }
    expect(io.stderr.text).toBe('');
  });

  it.each(Object.entries(BAD_FIXTURES))(
    '%s alone: the exit code and the findings it must give (%j), in colour',
    async (name, expected) => {
      const io = captureIo();
      const code = await runSelfieCheck([`${BAD}${name}`], { json: false, color: true }, io);
      // Exit 4 exactly when a finding is an error; warnings alone still exit 0.
      expect(code).toBe(expected.some((finding) => finding.endsWith(':error')) ? 4 : 0);
      expect(io.stdout.text).toContain('\u001b[');
      const lines = plain(io.stdout.text).split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${code === 0 ? '✓' : '✗'} `));
      // The findings as printed: "    error   CODE: message" / "    warning CODE: message".
      const printed = lines.flatMap((line) => {
        const match = /^ {4}(error|warning) +([a-z0-9_]+): /.exec(line);
        return match ? [`${match[2]}:${match[1]}`] : [];
      });
      expect(printed).toEqual(expected);
      expect(io.stderr.text).toBe('');
    },
  );

  it('prints the JSON shape exactly for one good file', async () => {
    const io = captureIo();
    expect(await runSelfieCheck([`${GOOD}liveness-2.jpg`], { json: true, color: false, kind: 'liveness' }, io)).toBe(0);
    const bytes = (await readFile(`${GOOD}liveness-2.jpg`)).length;
    expect(JSON.parse(io.stdout.text)).toEqual({
      ok: true,
      files: [
        {
          path: `${GOOD}liveness-2.jpg`,
          ok: true,
          format: 'jpeg',
          width: 360,
          height: 450,
          bytes,
          face_check: 'passed',
          faces: 1,
          findings: [],
        },
      ],
    });
  });

  it('refuses an empty list of files as a usage error', async () => {
    await expect(runSelfieCheck([], { json: false, color: false }, captureIo())).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe('runSelfiePrepare', () => {
  it('writes a good JPEG byte for byte and reports it as JSON', async () => {
    const out = join(dir, 'demo-out.jpg');
    const io = captureIo();
    expect(await runSelfiePrepare(`${GOOD}demo.jpg`, out, { json: true }, io)).toBe(0);
    const source = await readFile(`${GOOD}demo.jpg`);
    expect((await readFile(out)).equals(source)).toBe(true);
    expect(JSON.parse(io.stdout.text)).toEqual({
      ok: true,
      input: `${GOOD}demo.jpg`,
      output: out,
      changed: false,
      changes: [],
      width: 640,
      height: 800,
      bytes: source.length,
      source_bytes: source.length,
      findings: [],
    });
  });

  it('writes the normalised JPEG and tells a person what changed, on stderr', async () => {
    const out = join(dir, 'rotated-out.jpg');
    const io = captureIo();
    expect(await runSelfiePrepare(`${BAD}exif-rotated.jpg`, out, { json: false, kind: 'liveness' }, io)).toBe(0);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([256, 320, undefined]);
    expect(io.stdout.text).toBe('');
    expect(io.stderr.text).toMatch(
      /^Wrote .*rotated-out\.jpg: JPEG 256×320, \d+ bytes: applied EXIF orientation 6; resized 640×800 → 256×320/,
    );
    expect(io.stderr.text).toContain('warning exif_rotated');
  });

  it('writes nothing and exits 4 when the input has errors', async () => {
    const out = join(dir, 'never.jpg');
    const io = captureIo();
    expect(await runSelfiePrepare(`${BAD}truncated.jpg`, out, { json: true }, io)).toBe(4);
    expect(JSON.parse(io.stdout.text)).toMatchObject({
      ok: false,
      output: null,
      findings: [{ code: 'truncated', severity: 'error' }],
    });
    const human = captureIo();
    expect(await runSelfiePrepare(`${BAD}document.pdf`, out, { json: false }, human)).toBe(4);
    expect(human.stderr.text).toContain('not_an_image');
    expect(human.stderr.text).toContain('Nothing written to');
    expect((await readdir(dir)).filter((f) => f.startsWith('never'))).toEqual([]);
  });

  it('writes the JPEG to stdout for OUT "-"', async () => {
    const io = captureIo();
    expect(await runSelfiePrepare(`${BAD}selfie.webp`, '-', { json: false }, io)).toBe(0);
    expect((await sharp(io.stdout.bytes).metadata()).format).toBe('jpeg');
    await expect(runSelfiePrepare(`${BAD}selfie.webp`, '-', { json: true }, captureIo())).rejects.toMatchObject({
      exitCode: 2,
    });
  });

  it('turns an unwritable output into an InputError', async () => {
    await expect(
      runSelfiePrepare(`${GOOD}demo.jpg`, join(dir, 'no-such-dir', 'x.jpg'), { json: false }, captureIo()),
    ).rejects.toMatchObject({ exitCode: 4 });
  });
});

describe('runSelfiePrepare output paths', () => {
  it('says why OUT cannot be written in its own words, with control characters in the path made visible', async () => {
    const io = captureIo();
    const out = join(dir, 'missing-\u001b]0;pwned\u0007-dir', 'out.png.jpg');
    const error = await runSelfiePrepare(
      `${BAD}very-dark.jpg`.replace('very-dark', 'very-dark'),
      out,
      { json: false, color: false },
      io,
    ).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    // Either the file is refused first (nothing written) or the write fails: never Node's raw text.
    const text = `${error?.message ?? ''}${io.stderr.text}`;
    expect(text).not.toMatch(/ENOENT:|open '/);
    expect(text).not.toContain('\u001b');
    if (error) expect(error.message).toMatch(/Cannot write .*\\x1b\]0;pwned\\x07.*: .*(does not exist|no such)/i);
  });
});
