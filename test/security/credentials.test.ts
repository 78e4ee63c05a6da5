/** Credentials are written 0600 under a 0700 directory, whatever the umask and the directory was before. */
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { MARKED_KEY } from './helpers.js';

const posix = process.platform !== 'win32';
let root: string;
let previousUmask: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'smile-credentials-'));
});
afterEach(() => {
  if (previousUmask !== undefined) process.umask(previousUmask);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe.skipIf(!posix)('credentials file modes', () => {
  it('writes credentials.json 0600 in a 0700 directory even with a permissive umask', async () => {
    previousUmask = process.umask(0o000);
    const config = join(root, 'fresh', 'nested', 'config');
    const run = await runCli(
      ['profile', 'add', 'p', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', '-'],
      { env: { SMILE_CONFIG_DIR: config }, stdin: MARKED_KEY },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await mode(config)).toBe(0o700);
    expect(await mode(join(config, 'credentials.json'))).toBe(0o600);
  });

  it('tightens an existing group/world-readable directory and a loose credentials file on the next write', async () => {
    const config = join(root, 'loose');
    await mkdir(config, { mode: 0o755 });
    await chmod(config, 0o755);
    const env = { SMILE_CONFIG_DIR: config };
    expect(
      (
        await runCli(['profile', 'add', 'a', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', '-'], {
          env,
          stdin: MARKED_KEY,
        })
      ).code,
    ).toBe(0);
    expect(await mode(config)).toBe(0o700);
    await chmod(join(config, 'credentials.json'), 0o644);
    expect(
      (
        await runCli(['profile', 'add', 'b', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', '-'], {
          env,
          stdin: MARKED_KEY,
        })
      ).code,
    ).toBe(0);
    expect(await mode(join(config, 'credentials.json'))).toBe(0o600);
    // Removing a profile rewrites the file: still 0600.
    expect((await runCli(['profile', 'remove', 'a'], { env })).code).toBe(0);
    expect(await mode(join(config, 'credentials.json'))).toBe(0o600);
  });

  it('keeps the key out of config.json (the profiles file)', async () => {
    const config = join(root, 'split');
    expect(
      (
        await runCli(['profile', 'add', 'p', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', '-'], {
          env: { SMILE_CONFIG_DIR: config },
          stdin: MARKED_KEY,
        })
      ).code,
    ).toBe(0);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(config, 'config.json'), 'utf8')).not.toContain(MARKED_KEY);
    expect(await readFile(join(config, 'credentials.json'), 'utf8')).toContain(MARKED_KEY);
  });

  it('doctor flags a loose credentials file with the chmod that fixes it', async () => {
    const config = join(root, 'doctor');
    const env = { SMILE_CONFIG_DIR: config };
    expect(
      (
        await runCli(
          [
            'profile',
            'add',
            'p',
            '--partner-id',
            '085',
            '--env',
            'sandbox',
            '--base-url',
            'http://127.0.0.1:9/v1',
            '--api-key-file',
            '-',
          ],
          { env, stdin: MARKED_KEY },
        )
      ).code,
    ).toBe(0);
    await chmod(join(config, 'credentials.json'), 0o604);
    const run = await runCli(['doctor', '--json'], { env });
    const credentials = run
      .json<{ checks: { name: string; status: string; fix?: string }[] }>()
      .checks.find((check) => check.name === 'credentials');
    expect(credentials).toMatchObject({ status: 'warn', fix: `chmod 600 ${join(config, 'credentials.json')}` });
    expect(run.stdout).not.toContain(MARKED_KEY);
  });
});
