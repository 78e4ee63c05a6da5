import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBulkInput, prescanInput, readInputRecords, validateRecord } from '../../../src/bulk/input.js';
import type { InputRecord, RowCheck, ValidateContext } from '../../../src/bulk/input.js';
import { SeenUserIds } from '../../../src/bulk/seen.js';

const SELFIE = resolve('fixtures/selfies/demo.jpg');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-rows-'));
  await mkdir(join(dir, 'photos'));
  await copyFile(SELFIE, join(dir, 'photos', 'a.jpg'));
  await copyFile(SELFIE, join(dir, 'photos', 'b.jpg'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function recordsOf(
  name: string,
  content: string | Buffer,
  format?: 'csv' | 'jsonl',
): Promise<{ columns: string[] | undefined; unknown: string[]; records: InputRecord[] }> {
  const path = join(dir, name);
  await writeFile(path, content);
  const input = await openBulkInput(path, format, process.stdin);
  const read = await readInputRecords(input);
  const records: InputRecord[] = [];
  for await (const record of read.records) records.push(record);
  return { columns: read.columns, unknown: read.unknownColumns, records };
}

function context(overrides: Partial<ValidateContext> = {}): ValidateContext {
  return { baseDir: dir, environment: 'sandbox', seen: new SeenUserIds(), ...overrides };
}

async function check(values: Record<string, unknown>, ctx = context(), line = 2): Promise<RowCheck> {
  return validateRecord({ line, values, raw: [] }, ctx);
}

describe('reading CSV', () => {
  it('drops a UTF-8 BOM, reads CRLF and quoted fields, and keeps non-ASCII text', async () => {
    const csv = '\uFEFFuser_id,selfie,param.branch\r\n"zoë-1",photos/a.jpg,"Nairobi, CBD"\r\n';
    const { columns, records } = await recordsOf('bom.csv', csv);
    expect(columns).toEqual(['user_id', 'selfie', 'param.branch']);
    expect(records).toEqual([
      {
        line: 2,
        values: { user_id: 'zoë-1', selfie: 'photos/a.jpg', 'param.branch': 'Nairobi, CBD' },
        raw: ['zoë-1', 'photos/a.jpg', 'Nairobi, CBD'],
      },
    ]);
  });

  it('matches known columns case-insensitively and lists unknown ones', async () => {
    const { columns, unknown } = await recordsOf(
      'case.csv',
      'User_ID, Selfie ,Param.Branch,notes,reason\nu1,photos/a.jpg,x,y,z\n',
    );
    expect(columns).toEqual(['user_id', 'selfie', 'param.Branch', 'notes', 'reason']);
    expect(unknown).toEqual(['notes']);
  });

  it('refuses an empty file, a header without user_id, and a column given twice (exit 4)', async () => {
    await expect(recordsOf('empty.csv', '')).rejects.toMatchObject({ exitCode: 4, code: 'no_header' });
    await expect(recordsOf('noid.csv', 'id,selfie\n1,a.jpg\n')).rejects.toMatchObject({
      exitCode: 4,
      code: 'no_user_id_column',
    });
    await expect(recordsOf('dup.csv', 'user_id,selfie,selfie\n')).rejects.toMatchObject({
      exitCode: 4,
      code: 'duplicate_column',
    });
  });

  it('flags a row with more fields than the header, accepts trailing empty ones and short rows', async () => {
    const { records } = await recordsOf('fields.csv', 'user_id,selfie\nu1,a.jpg,extra\nu2,a.jpg,,\nu3\n');
    expect(records[0]!.error).toMatch(/3 fields but the header has 2/);
    expect(records[1]!.values).toEqual({ user_id: 'u2', selfie: 'a.jpg' });
    expect(records[2]!.values).toEqual({ user_id: 'u3', selfie: '' });
  });

  it('undoes the formula guard smile writes into reports and rejects', async () => {
    const { records } = await recordsOf('guard.csv', "user_id,selfie\n'=u1,photos/a.jpg\n");
    expect(records[0]!.values['user_id']).toBe('=u1');
  });

  it('turns invalid UTF-8 into a bad row, not a crash', async () => {
    const bytes = Buffer.concat([
      Buffer.from('user_id,selfie\nu'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(',photos/a.jpg\nu2,photos/a.jpg\n'),
    ]);
    const { records } = await recordsOf('latin1.csv', bytes);
    const first = await validateRecord(records[0]!, context());
    expect(first.ok).toBe(false);
    expect(!first.ok && first.problem.reason).toMatch(/not valid UTF-8/);
    expect((await validateRecord(records[1]!, context())).ok).toBe(true);
  });
});

describe('reading JSONL', () => {
  it('reads one object per line with line numbers, skipping blank lines, flagging bad ones', async () => {
    const text = '{"user_id":"u1","selfie":"photos/a.jpg"}\r\n\n{"user_id": 2}\nnot json\n[1]\n{"user_id":"u5"}';
    const { columns, records } = await recordsOf('rows.jsonl', text);
    expect(columns).toBeUndefined();
    expect(records.map((record) => [record.line, record.error === undefined])).toEqual([
      [1, true],
      [3, true],
      [4, false],
      [5, false],
      [6, true],
    ]);
    expect(records[2]!.error).toMatch(/not valid JSON/);
    expect(records[3]!.error).toBe('not a JSON object');
  });

  it('sniffs the format of an unknown extension and of stdin', async () => {
    await writeFile(join(dir, 'rows.txt2'), '{"user_id":"u1"}\n');
    expect((await openBulkInput(join(dir, 'rows.txt2'), undefined, process.stdin)).format).toBe('jsonl');
    const stdin = Readable.from([Buffer.from('user_id,selfie\nu1,photos/a.jpg\n')]);
    const input = await openBulkInput('-', undefined, stdin, dir);
    expect(input.format).toBe('csv');
    expect(input.baseDir).toBe(dir);
    const read = await readInputRecords(input);
    const all: InputRecord[] = [];
    for await (const record of read.records) all.push(record);
    expect(all).toHaveLength(1);
    expect(() => input.open()).toThrow(/only once/);
  });

  it('a missing input file is exit 4', async () => {
    await expect(openBulkInput(join(dir, 'nope.csv'), undefined, process.stdin)).rejects.toMatchObject({ exitCode: 4 });
  });
});

describe('validating rows', () => {
  it('resolves paths relative to the input file and builds the request fields', async () => {
    const result = await check({
      user_id: 'u1',
      selfie: 'photos/a.jpg',
      liveness: 'photos/a.jpg; photos/b.jpg',
      latitude: '-1.2921',
      longitude: '36.8219',
      altitude: '1795',
      allow_re_enroll: 'yes',
      sandbox_result: 'reject',
      'param.branch': 'nbo',
      'param.empty': '',
      job_id: 'job-7',
    });
    expect(result).toMatchObject({
      ok: true,
      row: {
        userId: 'u1',
        jobId: 'job-7',
        selfiePath: join(dir, 'photos', 'a.jpg'),
        livenessPaths: [join(dir, 'photos', 'a.jpg'), join(dir, 'photos', 'b.jpg')],
        geo: { latitude: -1.2921, longitude: 36.8219, altitude: 1795 },
        allowReEnroll: true,
        useEnrolledImage: false,
        sandboxResult: '1',
        params: { branch: 'nbo' },
      },
    });
  });

  it('takes JSONL values: numbers, booleans, lists and a params object', async () => {
    const result = await check({
      user_id: 42,
      selfie: 'photos/a.jpg',
      liveness: ['photos/b.jpg'],
      latitude: 1.5,
      longitude: 2,
      allow_re_enroll: true,
      params: { branch: 'x', n: 3 },
    });
    expect(result).toMatchObject({
      ok: true,
      row: {
        userId: '42',
        livenessPaths: [join(dir, 'photos', 'b.jpg')],
        geo: { latitude: 1.5, longitude: 2 },
        allowReEnroll: true,
        params: { branch: 'x', n: '3' },
      },
    });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['missing user_id', { selfie: 'photos/a.jpg' }, /user_id is missing/],
    ['user_id with spaces', { user_id: ' ', selfie: 'photos/a.jpg' }, /user_id is missing/],
    ['missing selfie', { user_id: 'u' }, /selfie is missing/],
    ['missing file', { user_id: 'u', selfie: 'photos/none.jpg' }, /selfie photos\/none\.jpg: no such file/],
    ['a directory', { user_id: 'u', selfie: 'photos' }, /not a file/],
    [
      'missing liveness file',
      { user_id: 'u', selfie: 'photos/a.jpg', liveness: 'photos/x.jpg' },
      /liveness photos\/x\.jpg: no such file/,
    ],
    [
      'latitude out of range',
      { user_id: 'u', selfie: 'photos/a.jpg', latitude: '95', longitude: '1' },
      /latitude 95 is outside/,
    ],
    ['latitude alone', { user_id: 'u', selfie: 'photos/a.jpg', latitude: '5' }, /latitude and longitude go together/],
    ['not a number', { user_id: 'u', selfie: 'photos/a.jpg', latitude: 'north', longitude: '1' }, /LAT,LON/],
    ['bad bool', { user_id: 'u', selfie: 'photos/a.jpg', allow_re_enroll: 'maybe' }, /allow_re_enroll is "maybe"/],
    [
      'bad sandbox_result',
      { user_id: 'u', selfie: 'photos/a.jpg', sandbox_result: 'yes' },
      /sandbox_result takes approve/,
    ],
    ['reserved param', { user_id: 'u', selfie: 'photos/a.jpg', 'param.job_id': 'x' }, /job_id is set by smile/],
    [
      'use_enrolled_image without a selfie',
      { user_id: 'u', use_enrolled_image: 'true' },
      /use_enrolled_image replaces the selfie on file with a new one: the row's selfie is missing/,
    ],
    ['bad callback', { user_id: 'u', selfie: 'photos/a.jpg', callback_url: 'ftp://x' }, /callback_url/],
    ['object user_id', { user_id: { a: 1 }, selfie: 'photos/a.jpg' }, /user_id must be text/],
  ];
  for (const [name, values, reason] of bad) {
    it(`reports a bad row: ${name}`, async () => {
      const result = await check(values);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.problem.line).toBe(2);
        expect(result.problem.reason).toMatch(reason);
      }
    });
  }

  it('applies production rules: no sandbox_result, https callbacks only', async () => {
    const production = context({ environment: 'production' });
    const sandboxResult = await check({ user_id: 'p1', selfie: 'photos/a.jpg', sandbox_result: 'approve' }, production);
    expect(!sandboxResult.ok && sandboxResult.problem.reason).toMatch(/refused in production/);
    const http = await check(
      { user_id: 'p2', selfie: 'photos/a.jpg', callback_url: 'http://example.com/cb' },
      production,
    );
    expect(!http.ok && http.problem.reason).toMatch(/https in production/);
    expect(
      (await check({ user_id: 'p3', selfie: 'photos/a.jpg', callback_url: 'https://example.com/cb' }, production)).ok,
    ).toBe(true);
  });

  it('flags a duplicate user_id with the line of the first', async () => {
    const ctx = context();
    expect((await check({ user_id: 'dup', selfie: 'photos/a.jpg' }, ctx, 2)).ok).toBe(true);
    const second = await check({ user_id: 'dup', selfie: 'photos/b.jpg' }, ctx, 9);
    expect(!second.ok && second.problem).toMatchObject({ line: 9, userId: 'dup', code: 'duplicate_user_id' });
    expect(!second.ok && second.problem.reason).toMatch(/also on line 2/);
  });

  it('passes an unreadable record through as a bad row with its reason', async () => {
    const result = await validateRecord({ line: 7, values: {}, raw: 'x', error: 'not a JSON object' }, context());
    expect(result).toEqual({
      ok: false,
      problem: { line: 7, userId: undefined, reason: 'not a JSON object', code: 'unreadable_row', raw: 'x' },
    });
  });
});

describe('prescan', () => {
  it('fingerprints the whole file and counts rows per shard', async () => {
    const lines = ['user_id,selfie', ...Array.from({ length: 50 }, (_, i) => `u${i},photos/a.jpg`)];
    await writeFile(join(dir, 'scan.csv'), `${lines.join('\n')}\n`);
    const input = await openBulkInput(join(dir, 'scan.csv'), undefined, process.stdin);
    const all = await prescanInput(input, undefined);
    expect(all).toMatchObject({
      rows: 50,
      allRows: 50,
      fingerprint: { kind: 'sha256', bytes: Buffer.byteLength(`${lines.join('\n')}\n`) },
    });
    const counts = await Promise.all([1, 2, 3].map((index) => prescanInput(input, { index, count: 3 })));
    expect(counts.reduce((sum, scan) => sum + scan.rows, 0)).toBe(50);
    expect(new Set(counts.map((scan) => scan.fingerprint.value)).size).toBe(1);
    await writeFile(join(dir, 'scan.csv'), `${lines.join('\n')}\nu99,photos/a.jpg\n`);
    expect((await prescanInput(input, undefined)).fingerprint.value).not.toBe(all.fingerprint.value);
  });
});
