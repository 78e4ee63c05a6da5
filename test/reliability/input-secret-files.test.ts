/**
 * Issue 9 item 10: a key or credentials file that is not a regular file (a FIFO nobody writes to,
 * a device) is refused at once with exit 3, instead of blocking forever. Each run is the packaged
 * binary in its own process, under a watchdog: a regression kills the child and fails the test
 * instead of hanging the suite.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Far beyond a normal start (about half a second); only a blocked process gets here. */
const WATCHDOG_MS = 20_000;
const fifoUnavailable = process.platform === 'win32' ? 'mkfifo needs a POSIX system' : undefined;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-secret-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
  /** The watchdog had to kill it: it blocked. */
  hung: boolean;
}

/** `node bin/smile.js ARGS` with a clean environment; SIGKILLed by the watchdog if it blocks. */
function smile(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn(process.execPath, ['bin/smile.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOME: dir, NO_COLOR: '1', SMILE_CONFIG_DIR: join(dir, 'config'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  let hung = false;
  const watchdog = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, WATCHDOG_MS);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(watchdog);
      done({ code, stderr, hung });
    });
  });
}

function mkfifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

/** A command that needs the key and nothing else first: it fails at the key, or at the network. */
const STATUS = ['status', '--user-id', 'u-1', '--job-id', 'job-1'];
const NOWHERE = 'http://127.0.0.1:9/v1';

describe.skipIf(fifoUnavailable)('secret files that are not regular files', () => {
  it('SMILE_API_KEY_FILE naming a FIFO with no writer: exit 3 at once, naming it', async () => {
    const fifo = mkfifo('key.fifo');
    const run = await smile(STATUS, { SMILE_PARTNER_ID: '085', SMILE_API_KEY_FILE: fifo, SMILE_BASE_URL: NOWHERE });
    expect(run.hung, 'blocked on the FIFO until the watchdog killed it').toBe(false);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`SMILE_API_KEY_FILE ${fifo} is a named pipe (FIFO), not a regular file`);
  });

  it('a symlink to a FIFO is refused the same way', async () => {
    const fifo = mkfifo('key2.fifo');
    const link = join(dir, 'key-link');
    execFileSync('ln', ['-s', fifo, link]);
    const run = await smile(STATUS, { SMILE_PARTNER_ID: '085', SMILE_API_KEY_FILE: link, SMILE_BASE_URL: NOWHERE });
    expect(run.hung).toBe(false);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/is a named pipe \(FIFO\), not a regular file/);
  });

  it('SMILE_API_KEY_FILE naming a device is refused without reading it', async () => {
    const run = await smile(STATUS, {
      SMILE_PARTNER_ID: '085',
      SMILE_API_KEY_FILE: '/dev/zero',
      SMILE_BASE_URL: NOWHERE,
    });
    expect(run.hung).toBe(false);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('SMILE_API_KEY_FILE /dev/zero is a device, not a regular file');
  });

  it('a credentials file replaced by a FIFO: exit 3 at once, naming it', async () => {
    const config = join(dir, 'config-fifo');
    const keyFile = join(dir, 'plain.key');
    await writeFile(keyFile, 'KEY-0123456789abcdef0123456789abcdef\n');
    const added = await runCli(
      ['profile', 'add', 'p', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', keyFile],
      { env: { HOME: dir, SMILE_CONFIG_DIR: config } },
    );
    expect(added.code).toBe(0);
    const credentials = join(config, 'credentials.json');
    await unlink(credentials);
    execFileSync('mkfifo', [credentials]);
    const run = await smile([...STATUS, '--base-url', NOWHERE], { SMILE_CONFIG_DIR: config });
    expect(run.hung, 'blocked on the FIFO until the watchdog killed it').toBe(false);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`The credentials file ${credentials} is a named pipe (FIFO), not a regular file`);
  });

  it('profile add --api-key-file naming a FIFO is refused at once', async () => {
    const fifo = mkfifo('add.fifo');
    const run = await smile(
      ['profile', 'add', 'q', '--partner-id', '085', '--env', 'sandbox', '--api-key-file', fifo],
      { SMILE_CONFIG_DIR: join(dir, 'config-add') },
    );
    expect(run.hung).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`--api-key-file ${fifo} is a named pipe (FIFO), not a regular file`);
  });
});
