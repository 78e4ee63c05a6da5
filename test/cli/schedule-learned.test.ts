/**
 * The learned poll schedule end to end: two `smile register` runs against one emulator, sharing a
 * SMILE_CONFIG_DIR (its state/ directory keeps the poll times). The second run knows when results
 * arrive on this server and asks job_status fewer times than the first (counted by the emulator).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { POLL_TIMES_FILE_NAME } from '../../src/register/schedule.js';
import { runCli } from '../helpers/run-cli.js';

let emulator: RunningEmulator;
let configDir: string;
beforeAll(async () => {
  // 2.5 s: the cold schedule looks every 500 ms (5 or more looks); the SDK would look 3 times.
  emulator = await startEmulator({ port: 0, processingMs: 2500 });
  configDir = mkdtempSync(join(tmpdir(), 'smile-schedule-e2e-'));
});
afterAll(async () => {
  await emulator.close();
  rmSync(configDir, { recursive: true, force: true });
});

async function register(user: string): Promise<number> {
  const run = await runCli(['register', '--user-id', user, '--selfie', 'fixtures/selfies/demo.jpg', '--json'], {
    env: {
      SMILE_PARTNER_ID: emulator.partnerId,
      SMILE_API_KEY: emulator.apiKey,
      SMILE_BASE_URL: emulator.baseUrl,
      SMILE_CONFIG_DIR: configDir,
    },
  });
  expect(run.code, run.stderr).toBe(0);
  const jobId = String(run.json().job_id);
  return emulator.state.requests.filter((entry) => entry.path.endsWith('/job_status') && entry.jobId === jobId).length;
}

it('a second registration against the same server uses the learned schedule: fewer job_status requests', async () => {
  const cold = await register(`sched-${process.pid}-1`);
  const file = readFileSync(join(configDir, 'state', POLL_TIMES_FILE_NAME), 'utf8');
  expect(file).not.toContain(emulator.baseUrl);
  expect(file).not.toContain(`sched-${process.pid}`);
  const warm = await register(`sched-${process.pid}-2`);
  expect(cold).toBeGreaterThanOrEqual(5);
  expect(warm).toBeLessThan(cold);
  // The SDK looks at 0, 2 and 4 s for a job ready after 2.5 s.
  expect(warm).toBeLessThanOrEqual(3);
});
