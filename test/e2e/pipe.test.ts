import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/child-env.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('smile … | head', () => {
  it('stops quietly when the reader closes the pipe early (no EPIPE stack)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'smile-pipe-'));
    try {
      const child = spawn(process.execPath, ['bin/smile.js', '--help'], {
        cwd: ROOT,
        env: childEnv(home, { SMILE_CONFIG_DIR: join(home, 'config') }),
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.destroy();
      const code = await new Promise<number | null>((done) => child.on('close', done));
      expect(stderr).not.toMatch(/EPIPE|Unhandled/);
      expect(code).toBe(0);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
