/**
 * Issue 15 item 9: rows finish in any order (an invalid row at once, a sent row after its round
 * trips), the --report and --rejects files are in input order all the same; the progress lines on
 * stderr stay in the order rows finish, and `bulk --help` says which is which.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { CsvParser } from '../../src/bulk/csv.js';
import { runCli } from '../helpers/run-cli.js';
import { envFor, readJsonl, workspace, writeCsv } from './bulk-helpers.js';
import type { Workspace } from './bulk-helpers.js';

let emulator: RunningEmulator;
let ws: Workspace;

beforeEach(async () => {
  // Slow enough that every sent row finishes after the invalid ones, which finish while being read.
  emulator = await startEmulator({ port: 0, processingMs: 300 });
  ws = await workspace();
});
afterEach(async () => {
  await emulator.close();
  await ws.cleanup();
});

function csvRows(text: string): string[][] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()].map((record) => record.fields);
}

/** The line numbers of the progress lines on stderr, in the order they were printed. */
function progressLines(stderr: string): number[] {
  return [...stderr.matchAll(/^[✓✗…] line (\d+)/gmu)].map((match) => Number(match[1]));
}

const IDS = ['a-1', 'a-2', 'bad-3', 'a-4', 'no-5', 'bad-6', 'a-7'];
/** The bad rows have a latitude out of range: invalid as soon as they are read, nothing sent. */
const extra = (id: string) => ({
  latitude: id.startsWith('bad') ? '999' : '',
  longitude: id.startsWith('bad') ? '0' : '',
  sandbox_result: id.startsWith('no') ? 'reject' : 'approve',
});

describe('smile bulk: report order', () => {
  it('writes the CSV report and rejects in input order while progress lines come as rows finish', async () => {
    const file = await writeCsv(ws, 'users.csv', IDS, extra);
    const result = await runCli(
      ['bulk', file, '--concurrency', '8', '--report', ws.path('report.csv'), '--rejects', ws.path('rejects.csv')],
      { env: envFor(emulator, ws) },
    );
    expect(result.code, result.stderr).toBe(6);
    const printed = progressLines(result.stderr);
    expect([...printed].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    // Completion order: the invalid rows (lines 4 and 7) before any sent row.
    expect(printed.slice(0, 2)).toEqual([4, 7]);
    const report = csvRows(await readFile(ws.path('report.csv'), 'utf8'));
    expect(report[0]![0]).toBe('line');
    expect(report.slice(1).map((row) => row[0])).toEqual(['2', '3', '4', '5', '6', '7', '8']);
    expect(report.slice(1).map((row) => row[1])).toEqual(IDS);
    const rejects = csvRows(await readFile(ws.path('rejects.csv'), 'utf8'));
    expect(rejects.slice(1).map((row) => row[0])).toEqual(['bad-3', 'no-5', 'bad-6']);
  });

  it('writes a JSONL report in input order, and a resumed run rebuilds it in input order too', async () => {
    const file = await writeCsv(ws, 'users.csv', IDS, extra);
    const first = await runCli(['bulk', file, '--report', ws.path('report.jsonl'), '--json'], {
      env: envFor(emulator, ws),
    });
    expect(first.code).toBe(6);
    const lines = await readJsonl(ws.path('report.jsonl'));
    expect(lines.map((line) => line['line'])).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(lines.map((line) => line['user_id'])).toEqual(IDS);
    const resumed = await runCli(['bulk', file, '--resume', '--report', ws.path('again.jsonl'), '--json'], {
      env: envFor(emulator, ws),
    });
    expect(resumed.code).toBe(6);
    expect((await readJsonl(ws.path('again.jsonl'))).map((line) => line['user_id'])).toEqual(IDS);
  });

  it('says in bulk --help which order the files and the progress lines are in', async () => {
    const help = await runCli(['bulk', '--help']);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/--report and --rejects files are in input order/);
    expect(text).toMatch(/progress lines on stderr come in the order rows finish/);
  });
});
