import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../../src/fs/atomic.js';

let dir: string;
let previousUmask: number | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-atomic-'));
});
afterEach(() => {
  if (previousUmask !== undefined) process.umask(previousUmask);
  previousUmask = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomically', () => {
  it('replaces the file whole and leaves no temporary file behind', async () => {
    const file = join(dir, 'out.bin');
    await writeFile(file, 'old');
    await writeFileAtomically(file, Buffer.from([1, 2, 3]));
    expect([...(await readFile(file))]).toEqual([1, 2, 3]);
    await writeFileAtomically(file, 'text');
    expect(await readFile(file, 'utf8')).toBe('text');
    expect((await readdir(dir)).filter((name) => name.includes('out.bin'))).toEqual(['out.bin']);
  });

  it.runIf(process.platform !== 'win32')(
    'sets the mode asked for whatever the umask, and replaces a looser file',
    async () => {
      const file = join(dir, 'secret.json');
      await writeFile(file, '{}', { mode: 0o644 });
      previousUmask = process.umask(0o000);
      await writeFileAtomically(file, '{"a":1}', { mode: 0o600 });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    },
  );

  it('throws Node’s error when the directory is missing, and writes nothing', async () => {
    const missing = join(dir, 'no-such-dir');
    await expect(writeFileAtomically(join(missing, 'x'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
