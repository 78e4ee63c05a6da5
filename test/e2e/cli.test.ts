/**
 * End to end: the packaged binary (`node bin/smile.js`, dist/ built by npm ci or test/global-setup.ts) in a child process with an
 * isolated HOME and config dir, NO_COLOR and no CI variables — one happy path per command family
 * and one run per exit code. The bulk of the behaviour is tested in-process (test/cli, test/unit).
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/child-env.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SELFIE = 'fixtures/selfies/demo.jpg';

let home: string;
const outputs: string[] = [];

/** The environment of a user's shell: isolated HOME and config, NO_COLOR, and nothing of CI. */
function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return childEnv(home, { SMILE_CONFIG_DIR: join(home, 'config'), ...extra });
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['bin/smile.js', ...args], { cwd: ROOT, env: baseEnv(env), stdio: 'pipe' });
}

function finish(
  child: ChildProcessWithoutNullStreams,
  options: { stdin?: string; record?: boolean } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? '');
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (options.record !== false) outputs.push(stdout, stderr);
      done({ code, signal, stdout, stderr });
    });
  });
}

const smile = (args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string) =>
  finish(start(args, env), stdin === undefined ? {} : { stdin });

interface Emulator {
  process: ChildProcessWithoutNullStreams;
  baseUrl: string;
  partnerId: string;
  apiKey: string;
}

/** `smile emulator --json` as its own process; its first stdout line says where it is. */
async function startEmulatorProcess(processingMs: number): Promise<Emulator> {
  const child = start(['emulator', '--json', '--processing-ms', String(processingMs)]);
  const line = await new Promise<string>((done, fail) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const end = buffer.indexOf('\n');
      if (end >= 0) done(buffer.slice(0, end));
    });
    child.on('close', (code) => fail(new Error(`the emulator exited ${code} before printing its start line`)));
  });
  const info = JSON.parse(line) as { base_url: string; partner_id: string; api_key: string };
  return { process: child, baseUrl: info.base_url, partnerId: info.partner_id, apiKey: info.api_key };
}

async function stopEmulator(emulator: Emulator | undefined): Promise<void> {
  if (!emulator || emulator.process.exitCode !== null) return;
  const closed = new Promise((done) => emulator.process.on('close', done));
  emulator.process.kill('SIGTERM');
  await closed;
}

let slow: Emulator | undefined;
let fast: Emulator | undefined;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-e2e-'));
  [slow, fast] = await Promise.all([startEmulatorProcess(60_000), startEmulatorProcess(100)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([stopEmulator(slow), stopEmulator(fast)]);
  if (home) await rm(home, { recursive: true, force: true });
});

describe('smile (the packaged binary)', () => {
  it('runs the README quick start: register against the in-process emulator, approved, exit 0', async () => {
    const run = await smile(['register', '--emulator', '--user-id', 'demo-1', '--selfie', SELFIE]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^✓ approved · emulator/);
    expect(run.stdout).toContain('0840 Enroll User');
    expect(run.stderr).toMatch(/▸ emulator · http:\/\/127\.0\.0\.1:\d+\/v1/);
    // Not a terminal, not colour: no escape codes, no spinner frames.
    expect(run.stdout + run.stderr).not.toContain('\u001b[');
  });

  it('prints its version', async () => {
    const run = await smile(['--version']);
    expect(run.code).toBe(0);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  describe('one run per exit code', () => {
    it('2: usage (an unknown flag)', async () => {
      const run = await smile(['register', '--no-such-flag']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/Unknown option '--no-such-flag'/);
    });

    it('3: no credentials', async () => {
      const run = await smile(['register', '--user-id', 'u', '--selfie', SELFIE, '--json']);
      expect(run.code).toBe(3);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'no_credentials' } });
    });

    it('4: a selfie that fails its checks', async () => {
      const run = await smile([
        'register',
        '--emulator',
        '--user-id',
        'u-4',
        '--selfie',
        'fixtures/bad/zero-bytes.jpg',
      ]);
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(/Nothing was sent/);
    });

    it('5: an API failure (a base URL that is not the v1 API)', async () => {
      const run = await smile(['register', '--user-id', 'u-5', '--selfie', SELFIE, '--json'], {
        SMILE_PARTNER_ID: fast!.partnerId,
        SMILE_API_KEY: fast!.apiKey,
        SMILE_BASE_URL: fast!.baseUrl.replace(/\/v1$/, '/v9'),
      });
      expect(run.code).toBe(5);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false });
    });

    it('6: rejected', async () => {
      const run = await smile([
        'register',
        '--emulator',
        '--user-id',
        'u-6',
        '--selfie',
        SELFIE,
        '--sandbox-result',
        'reject',
        '--json',
      ]);
      expect(run.code).toBe(6);
      expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'rejected' });
    });

    it('7: --expect did not match', async () => {
      const run = await smile([
        'register',
        '--emulator',
        '--user-id',
        'u-7',
        '--selfie',
        SELFIE,
        '--expect',
        'rejected',
      ]);
      expect(run.code).toBe(7);
      expect(run.stderr).toMatch(/expected rejected, got approved/);
    });

    it('8: not final when --timeout runs out', async () => {
      const run = await smile(['register', '--user-id', 'u-8', '--selfie', SELFIE, '--timeout', '3s', '--json'], {
        SMILE_PARTNER_ID: slow!.partnerId,
        SMILE_API_KEY: slow!.apiKey,
        SMILE_BASE_URL: slow!.baseUrl,
      });
      expect(run.code).toBe(8);
      expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'pending' });
      expect(run.stderr).toMatch(/smile status --user-id u-8 --job-id job-/);
    });

    it('130: Ctrl-C while waiting on a slow emulator, saying what may still run', async () => {
      const child = start(['register', '--user-id', 'u-130', '--selfie', SELFIE], {
        SMILE_PARTNER_ID: slow!.partnerId,
        SMILE_API_KEY: slow!.apiKey,
        SMILE_BASE_URL: slow!.baseUrl,
      });
      const result = finish(child);
      await new Promise<void>((done, fail) => {
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (/Waiting for the result/.test(stderr)) done();
        });
        child.on('close', () => fail(new Error(`register ended before waiting: ${stderr}`)));
      });
      child.kill('SIGINT');
      const run = await result;
      expect(run.code).toBe(130);
      expect(run.stderr).toMatch(/Interrupted: job job-\S+ may still be processing at Smile ID/);
      expect(run.stderr).toMatch(/smile status --user-id u-130 --job-id job-/);
      expect(run.stdout).toBe('');
    });
  });

  it('profile add (key on stdin) → register → status against a separate emulator process', async () => {
    const added = await smile(
      [
        'profile',
        'add',
        'local',
        '--partner-id',
        fast!.partnerId,
        '--env',
        'sandbox',
        '--base-url',
        fast!.baseUrl,
        '--api-key-file',
        '-',
      ],
      {},
      `${fast!.apiKey}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/✓ profile local added \(current\)/);
    const registered = await smile(['register', '--user-id', 'e2e-user', '--selfie', SELFIE, '--json']);
    expect(registered.code, registered.stderr).toBe(0);
    const doc = JSON.parse(registered.stdout) as { outcome: string; job_id: string };
    expect(doc.outcome).toBe('approved');
    const status = await smile(['status', '--user-id', 'e2e-user', '--job-id', doc.job_id]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^✓ approved · sandbox/);
    const doctor = await smile(['doctor']);
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(/^✓ round_trip/m);
  });

  it('never prints the API key (the emulator itself, which prints its throwaway key by design, aside)', async () => {
    expect(outputs.length).toBeGreaterThan(20);
    for (const key of [fast!.apiKey, slow!.apiKey]) {
      for (const output of outputs) expect(output.includes(key)).toBe(false);
    }
    const config = await readFile(join(home, 'config', 'config.json'), 'utf8');
    expect(config.includes(fast!.apiKey)).toBe(false);
  });
});
