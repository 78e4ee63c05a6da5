import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordRegistration, recordStatus } from '../../../src/history/record.js';
import {
  HISTORY_FILE_NAME,
  HISTORY_OLD_FILE_NAME,
  MAX_LINES_PER_FILE,
  MAX_REGISTRATIONS,
  MIN_LINE_BYTES,
  RegistrationHistory,
} from '../../../src/history/store.js';
import type { HistoryEntry } from '../../../src/history/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (n: number, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  user_id: `u-${n}`,
  job_id: `job-${n}`,
  environment: 'sandbox',
  host: 'testapi.smileidentity.com',
  outcome: 'approved',
  ...extra,
});

describe('RegistrationHistory', () => {
  it('lists newest first and merges the lines of one job (sent, then its outcome)', async () => {
    const target = { environment: 'sandbox', baseUrl: 'https://testapi.smileidentity.com/v1', profileName: 'dev' };
    let clock = Date.UTC(2026, 0, 1);
    const now = () => new Date((clock += 1000));
    const first = recordRegistration(dir, target, { userId: 'u-1', jobId: 'job-1' }, now);
    const second = recordRegistration(dir, target, { userId: 'u-2', jobId: 'job-2' }, now);
    await first.sent();
    await second.sent();
    first.smileJobId('0000000042');
    await second.ended('rejected');
    await first.ended('approved');
    const listed = await new RegistrationHistory(dir).list();
    expect(listed.map((item) => [item.job_id, item.outcome])).toEqual([
      ['job-2', 'rejected'],
      ['job-1', 'approved'],
    ]);
    expect(listed[1]).toEqual({
      at: '2026-01-01T00:00:01.000Z',
      user_id: 'u-1',
      job_id: 'job-1',
      smile_job_id: '0000000042',
      environment: 'sandbox',
      host: 'testapi.smileidentity.com',
      profile: 'dev',
      outcome: 'approved',
    });
  });

  it('records nothing for a registration that was never sent', async () => {
    const recorder = recordRegistration(
      dir,
      { environment: 'sandbox', baseUrl: 'https://h/v1' },
      { userId: 'u', jobId: 'j' },
    );
    await recorder.ended('error', 'selfie_invalid');
    expect(existsSync(join(dir, HISTORY_FILE_NAME))).toBe(false);
    expect(await new RegistrationHistory(dir).list()).toEqual([]);
  });

  it('status adds how a job of the history stands now, and leaves other jobs out', async () => {
    const target = { environment: 'sandbox', baseUrl: 'https://testapi.smileidentity.com/v1' };
    const recorder = recordRegistration(dir, target, { userId: 'u-1', jobId: 'job-1' });
    await recorder.sent();
    await recorder.ended('error', 'deadline');
    await recordStatus(dir, target, { userId: 'u-1', jobId: 'job-1' }, 'approved');
    await recordStatus(dir, target, { userId: 'u-9', jobId: 'job-9' }, 'approved');
    const listed = await new RegistrationHistory(dir).list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ job_id: 'job-1', outcome: 'approved' });
    expect(listed[0]!.error_code).toBeUndefined();
  });

  it('skips torn or foreign lines instead of failing', async () => {
    const history = new RegistrationHistory(dir);
    await history.record(entry(1));
    const file = join(dir, HISTORY_FILE_NAME);
    await writeFile(file, `${await readFile(file, 'utf8')}{"v":1,"user_id":"half\nnot json\n{"v":2}\n`);
    await history.record(entry(2));
    expect((await history.list()).map((item) => item.job_id)).toEqual(['job-2', 'job-1']);
  });

  it('no line is shorter than MIN_LINE_BYTES (below that size the file is not counted)', async () => {
    const history = new RegistrationHistory(dir);
    await history.record({
      at: new Date(0).toISOString(),
      user_id: 'u',
      job_id: 'j',
      environment: 'sandbox',
      host: '',
      outcome: 'sent',
    });
    expect((await readFile(join(dir, HISTORY_FILE_NAME))).length - 1).toBeGreaterThanOrEqual(MIN_LINE_BYTES);
  });

  it('is bounded: the full file is rotated, at least MAX_REGISTRATIONS kept, at most two files', async () => {
    const history = new RegistrationHistory(dir);
    const line = (n: number) => `${JSON.stringify({ v: 1, ...entry(n) })}\n`;
    // A file one line short of full, written at once (appending them one by one is the same bytes).
    const full = Array.from({ length: MAX_LINES_PER_FILE - 1 }, (_, n) => line(n)).join('');
    await writeFile(join(dir, HISTORY_FILE_NAME), full);
    await history.record(entry(MAX_LINES_PER_FILE - 1));
    expect(existsSync(join(dir, HISTORY_OLD_FILE_NAME))).toBe(true);
    expect(existsSync(join(dir, HISTORY_FILE_NAME))).toBe(false);
    for (let n = MAX_LINES_PER_FILE; n < MAX_LINES_PER_FILE + 10; n++) await history.record(entry(n));
    const lines = (name: string) => readFile(join(dir, name), 'utf8').then((text) => text.split('\n').length - 1);
    expect(await lines(HISTORY_OLD_FILE_NAME)).toBe(MAX_LINES_PER_FILE);
    expect(await lines(HISTORY_FILE_NAME)).toBe(10);
    const listed = await history.list();
    expect(listed.length).toBe(MAX_LINES_PER_FILE + 10);
    expect(listed.length).toBeGreaterThanOrEqual(MAX_REGISTRATIONS);
    expect(listed[0]!.job_id).toBe(`job-${MAX_LINES_PER_FILE + 9}`);
    // The next rotation replaces the older generation: never more than two files' worth.
    await writeFile(join(dir, HISTORY_FILE_NAME), full.replaceAll('"job-', '"new-job-').replaceAll('"u-', '"new-u-'));
    await history.record(entry(999_999));
    const after = await history.list();
    expect(after.length).toBe(MAX_LINES_PER_FILE);
    expect(after.some((item) => item.job_id === 'job-0')).toBe(false);
  });

  it('keeps every line of records written at the same time', async () => {
    const history = new RegistrationHistory(dir);
    await Promise.all(Array.from({ length: 50 }, (_, n) => history.record(entry(n))));
    expect((await history.list()).length).toBe(50);
  });

  it('never throws when the state directory cannot be written (a registration must not fail for it)', async () => {
    const blocked = join(dir, 'a-file');
    await writeFile(blocked, '');
    const history = new RegistrationHistory(join(blocked, 'state'));
    expect(await history.record(entry(1))).toBe(false);
    expect(await history.list()).toEqual([]);
    if (process.getuid?.() !== 0) {
      await chmod(dir, 0o500);
      expect(await new RegistrationHistory(join(dir, 'x')).record(entry(1))).toBe(false);
      await chmod(dir, 0o700);
    }
  });
});
