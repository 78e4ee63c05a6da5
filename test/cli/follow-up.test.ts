import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';
import { until } from '../helpers/wait-for.js';

const SELFIE = 'fixtures/selfies/demo.jpg';
let emulator: RunningEmulator;
let slow: RunningEmulator;
let root: string;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

/** Credentials of `em` in the environment; config (and so the state directory) in `configDir`. */
function envFor(em: RunningEmulator, configDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SMILE_PARTNER_ID: em.partnerId,
    SMILE_API_KEY: em.apiKey,
    SMILE_BASE_URL: em.baseUrl,
    SMILE_CONFIG_DIR: configDir,
    ...extra,
  };
}

async function freshConfig(): Promise<string> {
  return mkdtemp(join(root, 'config-'));
}

/** job_status requests the emulator answered for one job. */
const statusRequests = (em: RunningEmulator, jobId: string) =>
  em.state.requests.filter((request) => request.path.endsWith('/job_status') && request.jobId === jobId).length;

/** `register --no-wait`: a job at the emulator, not waited for; its job id. */
async function submit(em: RunningEmulator, config: string, user: string): Promise<string> {
  const sent = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--no-wait', '--json'], {
    env: envFor(em, config),
  });
  expect(sent.code, sent.stderr).toBe(0);
  return String(sent.json()['job_id']);
}

interface JobsDocument {
  ok: boolean;
  jobs: Record<string, string>[];
  matching: number;
  kept: number;
  file: string;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'smile-follow-'));
  emulator = await startEmulator({ port: 0, processingMs: 150 });
  slow = await startEmulator({ port: 0, processingMs: 120_000 });
});
afterAll(async () => {
  await Promise.all([emulator.close(), slow.close()]);
  await rm(root, { recursive: true, force: true });
});

describe('--interval', () => {
  it('register --interval 2s looks once, 2s after the upload (the cold schedule would look at 500 ms, then again)', async () => {
    const config = await freshConfig();
    const user = uid('iv');
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--interval', '2s', '--json'], {
      env: envFor(emulator, config),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(statusRequests(emulator, String(run.json()['job_id']))).toBe(1);
  });

  it('status --wait --interval: the first look at once, then fixed gaps', async () => {
    const config = await freshConfig();
    const user = uid('ivs');
    const jobId = await submit(slow, config, user);
    const run = await runCli(
      ['status', '--user-id', user, '--job-id', jobId, '--wait', '--interval', '2s', '--timeout', '3s', '--json'],
      { env: envFor(slow, config) },
    );
    expect(run.code).toBe(8);
    // At 0 and 2 s; the cold schedule would have looked at 0, 0.5, 1, 1.5, 2, 2.5 s.
    expect(statusRequests(slow, jobId)).toBe(2);
  });

  it('refuses an interval under the floor, and --interval without a wait (exit 2)', async () => {
    const config = await freshConfig();
    const short = await runCli(['register', '--user-id', 'u', '--selfie', SELFIE, '--interval', '500ms'], {
      env: envFor(emulator, config),
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--interval 500ms is too short/);
    const noWait = await runCli(['register', '--user-id', 'u', '--selfie', SELFIE, '--no-wait', '--interval', '5s'], {
      env: envFor(emulator, config),
    });
    expect(noWait.code).toBe(2);
    expect(noWait.stderr).toMatch(/does not go with --no-wait/);
    const status = await runCli(['status', '--user-id', 'u', '--job-id', 'j', '--interval', '5s'], {
      env: envFor(emulator, config),
    });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/add --wait/);
  });
});

describe('the 2215 hint', () => {
  it('names the real, shell-quoted status command instead of placeholders', async () => {
    const config = await freshConfig();
    const user = `o'brien ${uid('q')}`;
    const jobId = `job-${uid('dup')}`;
    const first = await runCli(['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE, '--json'], {
      env: envFor(emulator, config),
    });
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE], {
      env: envFor(emulator, config),
    });
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/2215/);
    expect(again.stderr).toContain(`smile status --user-id 'o'\\''brien ${user.slice(8)}' --job-id ${jobId}`);
    expect(again.stderr).not.toMatch(/--user-id U --job-id J/);
    const json = await runCli(['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE, '--json'], {
      env: envFor(emulator, config),
    });
    expect(json.json<{ error: { hint: string } }>().error.hint).toContain(`--job-id ${jobId}`);
  });
});

describe('status --wait: spinner, plain lines, Ctrl-C', () => {
  it('without a terminal: one plain line, no spinner frames', async () => {
    const config = await freshConfig();
    const user = uid('pl');
    const jobId = await submit(emulator, config, user);
    const run = await runCli(['status', '--user-id', user, '--job-id', jobId, '--wait'], {
      env: envFor(emulator, config),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Waiting for the result of job ${jobId}…\n`);
    expect(run.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
  });

  it('Ctrl-C while waiting exits 130 and prints the command that resumes it', async () => {
    const config = await freshConfig();
    const user = uid('cc');
    const jobId = await submit(slow, config, user);
    const controller = new AbortController();
    const running = runCli(
      ['status', '--user-id', user, '--job-id', jobId, '--wait', '--env', 'sandbox', '--timeout', '60s'],
      {
        env: envFor(slow, config),
        signal: controller.signal,
      },
    );
    // Abort once the emulator has answered a look (the wait is under way).
    await until(() => (statusRequests(slow, jobId) > 0 ? true : undefined), 'the first job_status');
    controller.abort();
    const run = await running;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(new RegExp(`Interrupted: stopped asking about job ${jobId}`));
    expect(run.stderr).toContain(`Resume with: smile status --user-id ${user} --job-id ${jobId} --wait --env sandbox`);
  });
});

describe('the local history: smile jobs and status --last', () => {
  it('status --last refuses clearly when nothing was registered here', async () => {
    const config = await freshConfig();
    const run = await runCli(['status', '--last'], { env: envFor(emulator, config) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--last: the local history is empty/);
    const json = await runCli(['status', '--last', '--json'], { env: envFor(emulator, config) });
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'history_empty' } });
    const jobs = await runCli(['jobs', '--json'], { env: envFor(emulator, config) });
    expect(jobs.code).toBe(0);
    expect(jobs.json<JobsDocument>()).toMatchObject({ ok: true, jobs: [], kept: 0 });
    const both = await runCli(['status', '--last', '--job-id', 'j'], { env: envFor(emulator, config) });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/does not go with --user-id or --job-id/);
    const none = await runCli(['status'], { env: envFor(emulator, config) });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Missing --user-id ID and --job-id ID/);
  });

  it('keeps every registration sent (outcome, ids, host; no key, no params), newest first, and resumes the newest', async () => {
    const config = await freshConfig();
    const env = envFor(emulator, config);
    const a = uid('ha');
    const b = uid('hb');
    const first = await runCli(['register', '--user-id', a, '--selfie', SELFIE, '--param', 'secret=p-123', '--json'], {
      env,
    });
    const second = await runCli(
      ['register', '--user-id', b, '--selfie', SELFIE, '--sandbox-result', 'reject', '--json'],
      { env },
    );
    const third = await runCli(['register', '--user-id', b, '--selfie', SELFIE, '--no-wait', '--json'], { env });
    expect([first.code, second.code, third.code]).toEqual([0, 6, 0]);
    // A selfie that fails its checks sends nothing, and leaves nothing in the history.
    const bad = await runCli(['register', '--user-id', uid('bad'), '--selfie', 'fixtures/bad/text-renamed.jpg'], {
      env,
    });
    expect(bad.code).toBe(4);

    const jobs = await runCli(['jobs', '--json'], { env });
    expect(jobs.code, jobs.stderr).toBe(0);
    const document = jobs.json<JobsDocument>();
    expect(document.jobs.map((job) => [job['user_id'], job['outcome']])).toEqual([
      [b, 'submitted'],
      [b, 'rejected'],
      [a, 'approved'],
    ]);
    expect(document.jobs[2]).toMatchObject({
      job_id: first.json()['job_id'],
      smile_job_id: first.json()['smile_job_id'],
      environment: 'sandbox',
      host: new URL(emulator.baseUrl).host,
    });
    const onDisk = await readFile(document.file, 'utf8');
    expect(onDisk).not.toContain(emulator.apiKey);
    expect(onDisk).not.toContain('p-123');
    expect(onDisk).not.toMatch(/base64|\.jpg/);

    const filtered = await runCli(['jobs', '--user-id', b, '--limit', '1', '--json'], { env });
    expect(filtered.json<JobsDocument>()).toMatchObject({ matching: 2, kept: 3 });
    expect(filtered.json<JobsDocument>().jobs.map((job) => job['job_id'])).toEqual([third.json()['job_id']]);
    const human = await runCli(['jobs'], { env });
    expect(human.stdout.split('\n')[0]).toMatch(/^SENT\s+ENV\s+HOST\s+PROFILE\s+USER\s+JOB\s+SMILE JOB\s+OUTCOME$/);
    expect(human.stdout).toContain(String(third.json()['job_id']));

    // status --last: the newest (the --no-wait one), waited for; the history learns its outcome.
    const last = await runCli(['status', '--last', '--wait', '--json'], { env });
    expect(last.code, last.stderr).toBe(0);
    expect(last.json()).toMatchObject({ outcome: 'approved', user_id: b, job_id: third.json()['job_id'] });
    expect(last.stderr).toMatch(new RegExp(`Last registration: job ${String(third.json()['job_id'])} of user ${b}`));
    const after = await runCli(['jobs', '--limit', '1', '--json'], { env });
    expect(after.json<JobsDocument>().jobs[0]).toMatchObject({ job_id: third.json()['job_id'], outcome: 'approved' });

    // Another server: --last would name a job that is not there; refused with the reason.
    const other = await runCli(['status', '--last'], { env: envFor(slow, config) });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/but this command asks 127\.0\.0\.1:/);
  });

  it('an interrupted registration is kept with its job id (a lost job id can be found)', async () => {
    const config = await freshConfig();
    const user = uid('int');
    const controller = new AbortController();
    const running = runCli(['register', '--user-id', user, '--selfie', SELFIE], {
      env: envFor(slow, config),
      signal: controller.signal,
    });
    await until(
      () => ([...slow.state.jobs.values()].some((job) => job.userId === user && job.zip) ? true : undefined),
      'the upload',
    );
    controller.abort();
    expect((await running).code).toBe(130);
    const jobs = await runCli(['jobs', '--json'], { env: envFor(slow, config) });
    const kept = jobs.json<JobsDocument>().jobs;
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ user_id: user, outcome: 'interrupted' });
    expect(slow.state.jobs.has(kept[0]!['job_id']!)).toBe(true);
  });

  it('a history that cannot be written never fails the registration', async () => {
    const blocked = join(root, `blocked-${seq++}`);
    await writeFile(blocked, 'a file where the config directory should be');
    const run = await runCli(['register', '--user-id', uid('ro'), '--selfie', SELFIE, '--json'], {
      env: envFor(emulator, blocked),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ outcome: 'approved' });
  });
});
