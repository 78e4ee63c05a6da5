/**
 * Issue 9 item 11: one deadline (--timeout) bounds the whole register command, each attempt's
 * timeout and every retry sleep fit inside it. Servers that accept connections and never answer.
 * No wall-clock assertion: the test timeout (30 s) is far below the 157 s these runs took before.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { SELFIE, envFor, hostileProxy, silentServer, uid } from './client-helpers.js';
import type { ErrorDoc, HostileProxy, SilentServer } from './client-helpers.js';

let proxy: HostileProxy;
let silent: SilentServer;

beforeAll(async () => {
  proxy = await hostileProxy();
  silent = await silentServer();
});
afterAll(async () => {
  await proxy.close();
  await silent.close();
});
let connectionsBefore = 0;
beforeEach(() => {
  connectionsBefore = silent.connections();
});
afterEach(() => {
  proxy.intercept = undefined;
});

const silentEnv = () => ({ ...envFor(proxy), SMILE_BASE_URL: silent.baseUrl });
/** Swallow matching requests: read them, never answer. */
const hang = (match: (method: string, path: string) => boolean) => {
  proxy.intercept = (req) => match(req.method ?? 'GET', (req.url ?? '').split('?')[0]!);
};

describe('register --timeout bounds the whole command', () => {
  it('a server that never answers the prep upload: exit 5, what to do, the job id to check', async () => {
    const jobId = uid('job');
    const user = uid('user');
    const run = await runCli(
      ['register', '--user-id', user, '--job-id', jobId, '--selfie', SELFIE, '--timeout', '3s', '--json'],
      { env: silentEnv() },
    );
    expect(run.code, run.stdout + run.stderr).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('deadline');
    expect(doc.error.message).toMatch(/--timeout 3s/);
    expect(doc.error.message).toMatch(/prep upload/);
    expect(doc.error.hint).toContain(`smile status --user-id ${user} --job-id ${jobId}`);
    expect(doc.error.details).toMatchObject({ user_id: user, job_id: jobId });
    expect(silent.connections()).toBeGreaterThanOrEqual(1);
  });

  it('the same in human output: the message and the next step on stderr, nothing on stdout', async () => {
    const run = await runCli(['register', '--user-id', uid('h'), '--selfie', SELFIE, '--timeout', '2s'], {
      env: silentEnv(),
    });
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--timeout 2s ran out before the upload was known to have landed/);
    expect(run.stderr).toMatch(/smile status --user-id/);
  });

  it('a zip PUT that never answers: exit 5 (the upload is not known to have landed)', async () => {
    hang((method) => method === 'PUT');
    const run = await runCli(['register', '--user-id', uid('put'), '--selfie', SELFIE, '--timeout', '3s', '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stdout + run.stderr).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('deadline');
    expect(doc.error.message).toMatch(/zip upload/);
    expect(doc.error.hint).toMatch(/smile status --user-id/);
  });

  it('after the upload, a job_status that never answers: pending, exit 8 with the resume command', async () => {
    hang((_method, path) => path.endsWith('/job_status'));
    const user = uid('poll');
    const run = await runCli(['register', '--user-id', user, '--selfie', SELFIE, '--timeout', '3s', '--json'], {
      env: envFor(proxy),
    });
    expect(run.code, run.stdout + run.stderr).toBe(8);
    expect(run.json()).toMatchObject({ outcome: 'pending', user_id: user });
    expect(run.stderr).toMatch(/smile status --user-id/);
    // The zip did land: the emulator has it.
    const jobId = String(run.json()['job_id']);
    expect(proxy.emulator.state.jobs.get(jobId)?.zip).toBeTruthy();
  });

  it('--no-wait is bounded by --timeout too', async () => {
    const run = await runCli(
      ['register', '--user-id', uid('nw'), '--selfie', SELFIE, '--no-wait', '--timeout', '2s', '--json'],
      { env: silentEnv() },
    );
    expect(run.code).toBe(5);
    expect(run.json<ErrorDoc>().error.code).toBe('deadline');
  });

  it('--timeout 0 is a usage error pointing at --no-wait (it would leave no time to submit)', async () => {
    const run = await runCli(['register', '--user-id', uid('zero'), '--selfie', SELFIE, '--timeout', '0'], {
      env: silentEnv(),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--no-wait/);
    expect(silent.connections()).toBe(connectionsBefore);
  });

  it('register --help documents the one deadline', async () => {
    const run = await runCli(['register', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--timeout <duration>\s+one deadline for the whole command/);
  });
});

describe('status --timeout bounds the command too', () => {
  it('status --wait against a server that never answers: exit 5, no result, how to retry', async () => {
    const run = await runCli(['status', '--user-id', 'u-1', '--job-id', 'j-1', '--wait', '--timeout', '2s', '--json'], {
      env: silentEnv(),
    });
    expect(run.code, run.stdout + run.stderr).toBe(5);
    const doc = run.json<ErrorDoc>();
    expect(doc.error.code).toBe('deadline');
    expect(doc.error.message).toMatch(/--timeout 2s/);
  });

  it('plain status against a server that never answers: exit 5 within --timeout', async () => {
    const run = await runCli(['status', '--user-id', 'u-1', '--job-id', 'j-1', '--timeout', '2s'], {
      env: silentEnv(),
    });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/--timeout 2s/);
  });

  it('status --help documents it', async () => {
    const run = await runCli(['status', '--help']);
    expect(run.stdout).toMatch(/--timeout <duration>\s+one deadline for the whole command/);
  });
});
