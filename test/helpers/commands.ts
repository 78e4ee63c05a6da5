import { runCli } from './run-cli.js';

/**
 * Command paths found from the help itself: every name under "Commands:", recursively — groups
 * (`profile`) and their subcommands (`profile add`) alike; `help` below the root is left out.
 */
export async function commandPaths(prefix: string[] = []): Promise<string[][]> {
  const help = (await runCli([...prefix, '--help'])).stdout;
  const section = help.split(/^Commands:\n/m)[1];
  if (section === undefined) return [prefix];
  const names = [...section.split(/\n\n/)[0]!.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1]!)
    .filter((name) => prefix.length === 0 || name !== 'help');
  const paths: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const name of names) paths.push(...(await commandPaths([...prefix, name])));
  return paths;
}

/** The commands that run something: paths with no subcommands of their own. */
export async function leafCommandPaths(): Promise<string[][]> {
  const paths = await commandPaths();
  const key = (path: string[]) => path.join(' ');
  return paths.filter(
    (path) => !paths.some((other) => other.length > path.length && key(other.slice(0, path.length)) === key(path)),
  );
}
