import { describe, expect, it } from 'vitest';
import { commandPaths } from '../helpers/commands.js';
import { runCli } from '../helpers/run-cli.js';

describe('help text', () => {
  it('every command has a help page, kept as a snapshot (a change to it is a change to the contract)', async () => {
    const root = await runCli(['--help']);
    expect(root.code).toBe(0);
    await expect(root.stdout).toMatchFileSnapshot('__snapshots__/help/smile.txt');
    const paths = await commandPaths();
    // The tree has the commands of product.md (and a few groups): if discovery found almost nothing, it is broken.
    expect(paths.length).toBeGreaterThan(15);
    for (const path of paths) {
      const run = await runCli([...path, '--help']);
      expect(run.code, path.join(' ')).toBe(0);
      expect(run.stderr, path.join(' ')).toBe('');
      await expect(run.stdout, path.join(' ')).toMatchFileSnapshot(`__snapshots__/help/smile-${path.join('-')}.txt`);
    }
  });
});
