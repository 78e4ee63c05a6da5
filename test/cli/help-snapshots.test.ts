import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

/** Command paths found from the help itself: every name under "Commands:", recursively. */
async function commandPaths(prefix: string[] = []): Promise<string[][]> {
  const help = (await runCli([...prefix, '--help'])).stdout;
  const section = help.split(/^Commands:\n/m)[1];
  if (section === undefined) return [prefix];
  const names = [...section.split(/\n\n/)[0]!.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((match) => match[1]!).filter((name) => prefix.length === 0 || name !== 'help');
  const paths: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const name of names) paths.push(...(await commandPaths([...prefix, name])));
  return paths;
}

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
