import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/child-env.js';

const ROOT = resolve(import.meta.dirname, '../..');

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-ci-recipe-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** The script as a CI job runs it: its own HOME and config dir, only the variables the recipe names. */
const env = (extra: NodeJS.ProcessEnv) => childEnv(home, { SMILE_CONFIG_DIR: join(home, 'config'), ...extra });

describe('the README CI recipe (scripts/ci-smoke.sh)', () => {
  it('passes: emulator up, approved and rejected as expected', async () => {
    const { stdout } = await promisify(execFile)('bash', ['scripts/ci-smoke.sh'], {
      cwd: ROOT,
      env: env({ SMILE_EMULATOR_PORT: String(20000 + (process.pid % 20000)) }),
    });
    expect(stdout).toContain('smoke test passed');
  });

  it('fails the build when the outcome is not the expected one', async () => {
    const run = promisify(execFile)('bash', ['scripts/ci-smoke.sh'], {
      cwd: ROOT,
      env: env({
        SMILE_EMULATOR_PORT: String(20001 + (process.pid % 20000)),
        SMILE_SELFIE: 'fixtures/bad/text-renamed.jpg',
      }),
    });
    await expect(run).rejects.toMatchObject({ code: 4 });
  });
});
