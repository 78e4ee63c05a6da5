/**
 * Issue 9 item 2: an error that stops a bulk run is that error, not "Interrupted" (130 means Ctrl-C
 * only). A real HTTP proxy in front of the emulator rewrites the signature of every job_status
 * answer: bulk must exit 3 naming the signature, as `register` does. A journal on a disk that
 * fills up mid-run: exit 5 naming the journal, with --resume advice, and the resume (once there
 * is room) registers every user exactly once.
 */
import { request, createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, expectEachRegisteredOnce, userIds, workspace, writeCsv } from '../cli/bulk-helpers.js';
import type { Workspace } from '../cli/bulk-helpers.js';
import { tinyDisk, tinyDiskUnavailable } from './tiny-disk.js';

let emulator: RunningEmulator;
let ws: Workspace;
let proxy: Server | undefined;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0, processingMs: 20 });
  ws = await workspace();
});
afterEach(async () => {
  if (proxy) {
    proxy.closeAllConnections();
    await new Promise((done) => proxy!.close(done));
  }
  proxy = undefined;
  await emulator.close();
  await ws.cleanup();
});

/** A pass-through proxy to the emulator that swaps the signature of every job_status answer for a wrong one. */
async function signatureRewritingProxy(target: RunningEmulator): Promise<string> {
  const upstream = new URL(target.origin);
  proxy = createServer((req, res) => {
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          let body = Buffer.concat(chunks);
          if (req.url?.endsWith('/job_status') && answer.statusCode === 200) {
            const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
            parsed['signature'] = Buffer.from('not the signature of this answer').toString('base64');
            body = Buffer.from(JSON.stringify(parsed));
          }
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  proxy.keepAliveTimeout = 1;
  await new Promise<void>((done) => proxy!.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1`;
}

type Summary = {
  ok: boolean;
  exit_code: number;
  interrupted: boolean;
  error?: { code: string; message: string; hint: string | null };
  next_step: string | null;
  journal: string | null;
};

describe('bulk: a stopping error is reported as itself', () => {
  it(
    'job_status answers with a bad signature: exit 3 naming the signature, not 130 "Interrupted"',
    { timeout: 60_000 },
    async () => {
      const baseUrl = await signatureRewritingProxy(emulator);
      const ids = userIds(12, 'sig');
      const file = await writeCsv(ws, 'rows.csv', ids);
      const env = { ...envFor(emulator, ws), SMILE_BASE_URL: baseUrl };

      const human = await runCli(['bulk', file, '--concurrency', '2'], { env });
      expect(human.code).toBe(3);
      expect(human.stderr).not.toMatch(/Interrupted/);
      expect(human.stderr).toMatch(/job status answer is not signed/);
      expect(human.stderr).toMatch(/--resume/);
      expect(human.stderr).not.toMatch(/This is a bug/);

      // Same again as JSON (other users): one document, the error in it, the exit code in it.
      const moreIds = userIds(6, 'sig-json');
      const second = await writeCsv(ws, 'more.csv', moreIds);
      const json = await runCli(['bulk', second, '--concurrency', '2', '--json'], { env });
      expect(json.code).toBe(3);
      const summary = json.json<Summary>();
      expect(summary).toMatchObject({ ok: false, exit_code: 3, interrupted: false, error: { code: 'bad_signature' } });
      expect(summary.next_step).toMatch(/--resume/);

      // The journal lets it finish once the answers are genuine: every user registered once.
      for (const input of [file, second]) {
        const resumed = await runCli(['bulk', input, '--resume', '--json'], { env: envFor(emulator, ws) });
        expect(resumed.code).toBe(0);
        expect(existsSync(`${input}.smile-journal.jsonl.lock`)).toBe(false);
      }
      expectEachRegisteredOnce(emulator, [...ids, ...moreIds]);
    },
  );

  it.skipIf(tinyDiskUnavailable !== undefined)(
    `the journal's disk fills up: exit 5 naming the journal, not 130; resume finishes each row once${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`,
    { timeout: 90_000 },
    async () => {
      const disk = tinyDisk(64);
      try {
        const ids = userIds(30, 'full');
        const file = await writeCsv(ws, 'rows.csv', ids);
        const journal = join(disk.dir, 'rows.smile-journal.jsonl');
        // Room for the lock file and a few rows' records, not for 30 rows' (each final record is ~1 KB).
        disk.leaveFree(4096 * 3);
        const result = await runCli(['bulk', file, '--journal', journal, '--concurrency', '4', '--json'], {
          env: envFor(emulator, ws),
        });
        const summary = result.json<Summary>();
        expect(result.code).toBe(5);
        expect(summary).toMatchObject({
          ok: false,
          interrupted: false,
          exit_code: 5,
          error: { code: 'journal_write' },
        });
        expect(summary.error!.message).toContain(journal);
        expect(summary.error!.message).toMatch(/the disk is full \(ENOSPC\)/);
        expect(summary.next_step).toMatch(/--resume/);

        // Room again: the resume finishes every row, none twice.
        for (const name of readdirSync(disk.dir)) if (name.startsWith('.filler')) rmSync(join(disk.dir, name));
        const resumed = await runCli(['bulk', file, '--journal', journal, '--resume', '--json'], {
          env: envFor(emulator, ws),
        });
        expect(resumed.stderr).not.toMatch(/✗|Interrupted/);
        expect(resumed.code).toBe(0);
        expectEachRegisteredOnce(emulator, ids);
      } finally {
        disk.cleanup();
      }
    },
  );
});
