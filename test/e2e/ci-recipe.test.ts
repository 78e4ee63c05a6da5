import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the README CI recipe (scripts/ci-smoke.sh)', () => {
  it('passes: emulator up, approved and rejected as expected', async () => {
    const { stdout } = await promisify(execFile)('bash', ['scripts/ci-smoke.sh'], { cwd: ROOT, env: { ...process.env, SMILE_EMULATOR_PORT: String(20000 + (process.pid % 20000)), NO_COLOR: '1' } });
    expect(stdout).toContain('smoke test passed');
  });

  it('fails the build when the outcome is not the expected one', async () => {
    const run = promisify(execFile)('bash', ['scripts/ci-smoke.sh'], { cwd: ROOT, env: { ...process.env, SMILE_EMULATOR_PORT: String(20001 + (process.pid % 20000)), SMILE_SELFIE: 'fixtures/bad/text-renamed.jpg', NO_COLOR: '1' } });
    await expect(run).rejects.toMatchObject({ code: 4 });
  });
});
