/**
 * The face detector (onnxruntime-node and two models) loads only when a selfie is checked: the
 * packaged binary in a child process, with a preloaded probe that reports at exit whether the
 * runtime was ever loaded.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/child-env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let probe: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-face-lazy-'));
  probe = join(dir, 'probe.mjs');
  // onnxruntime-node is CommonJS: once imported it sits in the CommonJS module cache.
  await writeFile(
    probe,
    `import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const loaded = Object.keys(require.cache).some((path) => path.includes('onnxruntime-node'));
  writeFileSync(process.env.PROBE_OUT, JSON.stringify({ loaded }));
});
`,
  );
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function loadsDetector(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ loaded: boolean; code: number | null }> {
  const out = join(dir, `probe-${Math.random().toString(36).slice(2)}.json`);
  const child = spawn(process.execPath, ['--import', probe, 'bin/smile.js', ...args], {
    cwd: ROOT,
    env: childEnv(dir, { PROBE_OUT: out, ...env }),
    stdio: 'ignore',
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const { loaded } = JSON.parse(await readFile(out, 'utf8')) as { loaded: boolean };
  return { loaded, code };
}

describe('the face detector is loaded on demand', () => {
  it('is loaded by a selfie check (so the probe can tell)', async () => {
    expect(await loadsDetector(['selfie', 'check', 'fixtures/selfies/demo.jpg'])).toEqual({ loaded: true, code: 0 });
  });

  it.each([
    [['--version']],
    [['--help']],
    [['register', '--help']],
    [['explain', 'no_face']],
    [['status', '--user-id', 'u-1', '--job-id', 'job-1', '--no-input']],
    [['selfie', 'check', 'fixtures/selfies/demo.jpg', '--skip-face-check']],
  ])('is not loaded by smile %j', async (args) => {
    expect((await loadsDetector(args)).loaded).toBe(false);
  });

  it('is not loaded by smile doctor', async () => {
    // A closed port on this machine: every probe fails at once, nothing leaves it.
    const env = { SMILE_PARTNER_ID: '085', SMILE_API_KEY: 'k', SMILE_BASE_URL: 'http://127.0.0.1:9/v1' };
    const run = await loadsDetector(['doctor', '--no-input'], env);
    expect(run.code).not.toBe(0);
    expect(run.loaded).toBe(false);
  });
});
