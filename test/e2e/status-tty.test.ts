import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { childEnv } from '../helpers/child-env.js';
import { runInPty } from '../helpers/pty.js';
import { runCli } from '../helpers/run-cli.js';
import { until } from '../helpers/wait-for.js';

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
let home: string;
let emulator: RunningEmulator;
let slow: RunningEmulator;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-status-tty-'));
  emulator = await startEmulator({ port: 0, processingMs: 1500 });
  slow = await startEmulator({ port: 0, processingMs: 120_000 });
});
afterAll(async () => {
  await Promise.all([emulator.close(), slow.close()]);
  await rm(home, { recursive: true, force: true });
});

const env = (em: RunningEmulator) =>
  childEnv(home, {
    SMILE_CONFIG_DIR: join(home, 'config'),
    SMILE_BASE_URL: em.baseUrl,
    SMILE_PARTNER_ID: em.partnerId,
    SMILE_API_KEY: em.apiKey,
    TERM: 'xterm',
  });

async function submit(em: RunningEmulator, user: string): Promise<string> {
  const sent = await runCli(
    ['register', '--user-id', user, '--selfie', 'fixtures/selfies/demo.jpg', '--no-wait', '--json'],
    {
      env: { ...env(em), HOME: home },
    },
  );
  expect(sent.code, sent.stderr).toBe(0);
  return String(sent.json()['job_id']);
}

describe('smile status --wait on a real terminal', () => {
  it('shows a spinner while waiting, then the result', { timeout: 60_000 }, async () => {
    const jobId = await submit(emulator, 'tty-1');
    const run = runInPty(['status', '--user-id', 'tty-1', '--job-id', jobId, '--wait'], env(emulator));
    const code = await run.exited;
    expect(code, run.screen()).toBe(0);
    // eslint-disable-next-line no-control-regex
    const plain = run.screen().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toMatch(new RegExp(`${SPINNER.source} Waiting for the result of job ${jobId}`));
    expect(run.screen()).toMatch(/Approved/);
  });

  it(
    'on a terminal of 0 columns (a pty nobody sized): plain lines instead of a spinner, no hang',
    { timeout: 60_000 },
    async () => {
      const jobId = await submit(emulator, 'tty-3');
      const run = runInPty(['status', '--user-id', 'tty-3', '--job-id', jobId, '--wait'], env(emulator), {
        unsized: true,
      });
      expect(await run.exited, run.screen()).toBe(0);
      expect(run.screen()).toContain(`Waiting for the result of job ${jobId}…`);
      expect(run.screen()).not.toMatch(SPINNER);
    },
  );

  it('Ctrl-C exits 130 and prints the command that resumes the wait', { timeout: 60_000 }, async () => {
    const jobId = await submit(slow, 'tty-2');
    const run = runInPty(['status', '--user-id', 'tty-2', '--job-id', jobId, '--wait'], env(slow));
    await until(
      () => (SPINNER.test(run.screen()) ? true : undefined),
      () => `the spinner; screen: ${run.screen()}`,
    );
    run.type('\x03');
    expect(await run.exited).toBe(130);
    expect(run.screen()).toContain(`Resume with: smile status --user-id tty-2 --job-id ${jobId} --wait`);
  });
});
