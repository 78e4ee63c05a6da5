/** Shared set-up of the bulk command tests: temp dirs with real selfies, CSV/JSONL writers, emulator checks. */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';

export const FIXTURE_SELFIE = resolve('fixtures/selfies/demo.jpg');

export interface Workspace {
  dir: string;
  path(name: string): string;
  cleanup(): Promise<void>;
}

/** A temp dir with photos/face.jpg (a real fixture selfie) for rows to point at. */
export async function workspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'smile-bulk-'));
  await mkdir(join(dir, 'photos'));
  await copyFile(FIXTURE_SELFIE, join(dir, 'photos', 'face.jpg'));
  await mkdir(join(dir, 'config'));
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function userIds(count: number, prefix = 'user'): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${String(index + 1).padStart(5, '0')}`);
}

/** users.csv with one row per id, selfie relative to the file; extra columns per row optional. */
export async function writeCsv(
  ws: Workspace,
  name: string,
  ids: readonly string[],
  extra: (id: string, index: number) => Record<string, string> = () => ({}),
): Promise<string> {
  const extras = ids.map(extra);
  const columns = [...new Set(extras.flatMap((row) => Object.keys(row)))];
  const lines = [['user_id', 'selfie', ...columns].join(',')];
  ids.forEach((id, index) =>
    lines.push([id, 'photos/face.jpg', ...columns.map((column) => extras[index]![column] ?? '')].join(',')),
  );
  const path = ws.path(name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

export function envFor(emulator: RunningEmulator, ws: Workspace, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SMILE_PARTNER_ID: emulator.partnerId,
    SMILE_API_KEY: emulator.apiKey,
    SMILE_BASE_URL: emulator.baseUrl,
    SMILE_CONFIG_DIR: ws.path('config'),
    HOME: ws.dir,
    ...more,
  };
}

export async function readJsonl(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The emulator's word that each user was registered exactly once: one job per user_id, that job
 * complete and approved, and the user enrolled by exactly that job.
 */
export function expectEachRegisteredOnce(emulator: RunningEmulator, ids: readonly string[]): void {
  const jobsByUser = new Map<string, string[]>();
  for (const job of emulator.state.jobs.values())
    jobsByUser.set(job.userId, [...(jobsByUser.get(job.userId) ?? []), job.jobId]);
  const twice = ids.filter((id) => (jobsByUser.get(id)?.length ?? 0) !== 1);
  expect(twice, 'users without exactly one job').toEqual([]);
  for (const id of ids) {
    const [jobId] = jobsByUser.get(id)!;
    const job = emulator.state.jobs.get(jobId!)!;
    expect(job.jobComplete && job.jobSuccess, `job of ${id} approved`).toBe(true);
    expect(emulator.state.users.get(id)?.enrollments, `enrollments of ${id}`).toBe(1);
  }
}
