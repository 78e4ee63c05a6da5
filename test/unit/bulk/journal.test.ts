import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  JOURNAL_VERSION,
  JournalWriter,
  defaultJournalPath,
  journalExists,
  journalMismatch,
  readFinalDocument,
  readJournal,
  stdinJournalPath,
} from '../../../src/bulk/journal.js';
import type { JournalHeader } from '../../../src/bulk/journal.js';
import { rowDocument } from '../../../src/bulk/row-result.js';

let dir: string;
const header: JournalHeader = {
  t: 'run',
  v: JOURNAL_VERSION,
  input: { name: 'users.csv', format: 'csv', kind: 'sha256', value: 'abc', bytes: 10 },
  shard: null,
  started_at: '2025-01-01T00:00:00.000Z',
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('journal', () => {
  it('names the default journal after the input, per shard', () => {
    expect(defaultJournalPath('/d/users.csv', undefined)).toBe('/d/users.csv.smile-journal.jsonl');
    expect(defaultJournalPath('/d/users.csv', '2/4')).toBe('/d/users.csv.shard-2of4.smile-journal.jsonl');
  });

  it('names the journal of stdin rows after their fingerprint (and shard), in the given directory', () => {
    const fingerprint = { kind: 'sha256-head' as const, value: 'a'.repeat(64), bytes: null };
    expect(stdinJournalPath('/state/bulk-journals', fingerprint, undefined)).toBe(
      `/state/bulk-journals/stdin-${'a'.repeat(16)}.smile-journal.jsonl`,
    );
    expect(stdinJournalPath('/state/bulk-journals', fingerprint, '1/3')).toBe(
      `/state/bulk-journals/stdin-${'a'.repeat(16)}.shard-1of3.smile-journal.jsonl`,
    );
    expect(stdinJournalPath('/s', { ...fingerprint, value: 'b'.repeat(64) }, undefined)).not.toBe(
      stdinJournalPath('/s', fingerprint, undefined),
    );
  });

  it('writes the steps of each row and reads them back into a compact index', async () => {
    const path = join(dir, 'j.jsonl');
    const journal = await JournalWriter.create(path, header);
    await journal.append({ t: 'pin', line: 2, user_id: 'u1', job_id: 'job-1' });
    await journal.append({ t: 'pin', line: 3, user_id: 'u2', job_id: 'job-2' });
    await journal.append({ t: 'prepared', line: 2, smile_job_id: '0000000001' });
    await journal.append({ t: 'uploaded', line: 2 });
    const approved = rowDocument({
      line: 2,
      outcome: 'approved',
      status: 'ok',
      environment: 'sandbox',
      userId: 'u1',
      jobId: 'job-1',
      smileJobId: '0000000001',
      jobStatus: undefined,
      reason: undefined,
    });
    await journal.append({ t: 'final', line: 2, done: true, outcome: 'approved', doc: approved });
    await journal.append({ t: 'pin', line: 4, user_id: 'u3', job_id: 'job-3' });
    await journal.append({
      t: 'final',
      line: 4,
      done: false,
      outcome: 'error',
      doc: rowDocument({
        line: 4,
        outcome: 'error',
        status: 'retryable',
        environment: 'sandbox',
        userId: 'u3',
        jobId: 'job-3',
        smileJobId: undefined,
        jobStatus: undefined,
        reason: 'network',
      }),
    });
    await journal.close();
    expect(await journalExists(path)).toBe(true);

    const state = await readJournal(path);
    expect(state.header).toEqual(header);
    expect(state.tornTail).toBe(false);
    expect(state.entries.get(2)).toMatchObject({
      userId: 'u1',
      jobId: 'job-1',
      step: 'uploaded',
      smileJobId: '0000000001',
      final: { done: true, outcome: 'approved' },
    });
    expect(state.entries.get(3)).toEqual({ userId: 'u2', jobId: 'job-2', step: 'pinned' });
    expect(state.entries.get(4)).toMatchObject({ step: 'pinned', final: { done: false, outcome: 'error' } });
    expect(readFinalDocument(path, state.entries.get(2)!)).toEqual(approved);
  });

  it('keeps the first job_id of a row (a recovery pin names the same job)', async () => {
    const path = join(dir, 'j.jsonl');
    const journal = await JournalWriter.create(path, header);
    await journal.append({ t: 'pin', line: 2, user_id: 'u1', job_id: 'job-1' });
    await journal.append({ t: 'pin', line: 2, user_id: 'u1', job_id: 'job-other' });
    await journal.close();
    expect((await readJournal(path)).entries.get(2)!.jobId).toBe('job-1');
  });

  it('group-commits concurrent appends: all of them land, each whole, each resolved once durable', async () => {
    const path = join(dir, 'j.jsonl');
    const journal = await JournalWriter.create(path, header);
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        journal.append({ t: 'pin', line: i + 2, user_id: `u${i}`, job_id: `job-${i}` }),
      ),
    );
    await journal.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(501);
    expect((await readJournal(path)).entries.size).toBe(500);
  });

  it('never overwrites a journal: creating one that exists is a usage error naming --resume', async () => {
    const path = join(dir, 'j.jsonl');
    await (await JournalWriter.create(path, header)).close();
    await expect(JournalWriter.create(path, header)).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringMatching(/--resume/),
    });
  });

  it('starts afresh over an empty journal (a crash right after creating it): no pin, nothing to lose', async () => {
    const path = join(dir, 'j.jsonl');
    await writeFile(path, '');
    expect(await journalExists(path)).toBe(false);
    await (await JournalWriter.create(path, header)).close();
    expect((await readJournal(path)).header).toMatchObject({ v: JOURNAL_VERSION });
  });

  it('ignores a torn last line (crash mid-write) and starts the next record on a new line', async () => {
    const path = join(dir, 'j.jsonl');
    const journal = await JournalWriter.create(path, header);
    await journal.append({ t: 'pin', line: 2, user_id: 'u1', job_id: 'job-1' });
    await journal.close();
    await appendFile(path, '{"t":"prepared","line":2,"smile_j');
    const state = await readJournal(path);
    expect(state.tornTail).toBe(true);
    expect(state.entries.get(2)!.step).toBe('pinned');
    const resumed = await JournalWriter.append(path, { tornTail: true });
    await resumed.append({ t: 'uploaded', line: 2 });
    await resumed.close();
    expect((await readJournal(path)).entries.get(2)!.step).toBe('uploaded');
  });

  it('refuses a journal damaged before its end, and files that are not journals', async () => {
    const path = join(dir, 'j.jsonl');
    await writeFile(
      path,
      `${JSON.stringify(header)}\n{"t":"pin","line":2,"user_id":"u1","job_id":"job-1"}\ngarbage\n{"t":"uploaded","line":2}\n`,
    );
    await expect(readJournal(path)).rejects.toMatchObject({ exitCode: 4, code: 'journal_damaged' });
    await writeFile(path, 'user_id,selfie\n');
    await expect(readJournal(path)).rejects.toMatchObject({ exitCode: 4 });
    await writeFile(path, `${JSON.stringify({ ...header, v: 99 })}\n`);
    await expect(readJournal(path)).rejects.toMatchObject({ code: 'journal_version' });
  });

  it('tells a journal of another input or shard', () => {
    expect(journalMismatch(header, { kind: 'sha256', value: 'abc', bytes: 10 }, null)).toBeUndefined();
    expect(journalMismatch(header, { kind: 'sha256', value: 'def', bytes: 10 }, null)).toMatch(/SHA-256 differs/);
    expect(journalMismatch(header, { kind: 'sha256', value: 'abc', bytes: 10 }, '1/2')).toMatch(/not shard 1\/2/);
  });
});
