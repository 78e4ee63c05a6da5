/**
 * Issue 9, "also": `cat rows.jsonl | smile bulk -` works without --journal. The journal goes to
 * the user's state directory (here SMILE_CONFIG_DIR), named from the stdin fingerprint (and
 * shard), so the same piped input finds it again with --resume; its path is printed at the start
 * and the summary says how to resume a pipe.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, expectEachRegisteredOnce, userIds, workspace } from '../cli/bulk-helpers.js';
import type { Workspace } from '../cli/bulk-helpers.js';
import { killChildren, spawnSmile } from './bulk-helpers.js';

let emulator: RunningEmulator;
let ws: Workspace;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 10 });
  ws = await workspace();
});
afterEach(async () => {
  killChildren();
  await emulator.close();
  await ws.cleanup();
});

type Summary = {
  exit_code: number;
  rows: number;
  from_journal: number;
  journal: string | null;
  next_step: string | null;
  outcomes: Record<string, number>;
};

function jsonl(ids: readonly string[]): string {
  return `${ids.map((id) => JSON.stringify({ user_id: id, selfie: ws.path('photos/face.jpg') })).join('\n')}\n`;
}

function journalNamed(stderr: string): string {
  const match = /journal:? (\/\S+\.jsonl)/i.exec(stderr);
  if (!match) throw new Error(`no journal path in:\n${stderr}`);
  return match[1]!;
}

describe('bulk: rows piped on stdin', () => {
  it(
    'cat rows.jsonl | smile bulk -: journal in the state directory, path printed; the same input resumes from it',
    { timeout: 60_000 },
    async () => {
      const ids = userIds(3, 'pipe');
      const rows = jsonl(ids);
      const env = envFor(emulator, ws);
      const first = await spawnSmile(['bulk', '-'], env, { stdin: rows }).exit;
      expect(first.code).toBe(0);
      const journal = journalNamed(first.stderr);
      expect(journal.startsWith(ws.path('config'))).toBe(true);
      expect(existsSync(journal)).toBe(true);
      expectEachRegisteredOnce(emulator, ids);

      // The same bytes find the same journal: a plain re-run is refused with the pipe's resume command.
      const again = await runCli(['bulk', '-'], { env, stdin: rows });
      expect(again.code).toBe(2);
      expect(again.stderr).toContain(journal);
      expect(again.stderr).toMatch(/\| smile bulk - --resume/);
      const sent = emulator.state.requests.length;
      const resumed = await runCli(['bulk', '-', '--resume', '--json'], { env, stdin: rows });
      expect(resumed.code).toBe(0);
      expect(resumed.json<Summary>()).toMatchObject({ rows: 3, from_journal: 3, journal });
      expect(emulator.state.requests.length).toBe(sent);

      // Other rows, or a shard of them, get journals of their own.
      const other = await runCli(['bulk', '-', '--json'], { env, stdin: jsonl(userIds(2, 'other')) });
      expect(other.code).toBe(0);
      expect(other.json<Summary>().journal).not.toBe(journal);
      const shard = await runCli(['bulk', '-', '--shard', '1/2', '--json'], { env, stdin: jsonl(userIds(4, 'shard')) });
      expect(shard.json<Summary>().journal).toMatch(/shard-1of2/);
    },
  );

  it(
    'a piped run that needs a re-run says how to resume a pipe, and that resume finishes it',
    { timeout: 60_000 },
    async () => {
      const ids = userIds(3, 'again');
      const rows = jsonl(ids);
      const env = envFor(emulator, ws);
      emulator.setFaults({ errorRate: 1 });
      const failed = await runCli(['bulk', '-', '--max-attempts', '1'], { env, stdin: rows });
      expect(failed.code).toBe(5);
      expect(failed.stderr).toMatch(/\| smile bulk - --resume/);
      expect(failed.stderr).not.toMatch(/Rows from stdin need --journal/);
      emulator.setFaults({});
      const resumed = await runCli(['bulk', '-', '--resume', '--json'], { env, stdin: rows });
      expect(resumed.code).toBe(0);
      expectEachRegisteredOnce(emulator, ids);
    },
  );
});
