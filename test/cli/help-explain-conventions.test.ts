/**
 * Issue 15 items 3 and 8: every help page shows the global flags; usage errors name the command;
 * `smile explain` knows every code smile prints (selfie findings derived from the source, exit
 * codes from errors.ts); "did you mean"; `-v` and `version`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { findingCodes } from '../../src/selfie/finding-info.js';
import { commandPaths, leafCommandPaths } from '../helpers/commands.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The flags of a help section (`Options:`, `Global Options:`), long names only. */
function flagsOf(help: string, title: string): string[] {
  const section = help.split(new RegExp(`^${title}\\n`, 'm'))[1];
  if (section === undefined) return [];
  return [...section.split(/\n\n/)[0]!.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((match) => match[1]!);
}

/**
 * Every selfie finding code in the source: the members of each `…FindingCode` union type under
 * src/selfie (TypeScript makes every finding smile creates one of them).
 */
function findingCodesInSource(): string[] {
  const dir = join(ROOT, 'src', 'selfie');
  const codes = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const union of text.matchAll(/export type \w*FindingCode =([^;]+);/g))
      for (const member of union[1]!.matchAll(/'([a-z_]+)'/g)) codes.add(member[1]!);
  }
  return [...codes].sort();
}

describe('help shows the global flags on every page', () => {
  it('every subcommand page lists every global flag of `smile --help` under "Global Options:"', async () => {
    const root = await runCli(['--help']);
    const globals = flagsOf(root.stdout, 'Options:').filter((flag) => flag !== '--version' && flag !== '--help');
    // The table's globals, whatever they are now: at least the ones issue 15 names.
    expect(globals).toEqual(expect.arrayContaining(['--env', '--profile', '--json', '--color', '--jq', '--query']));
    const paths = await commandPaths();
    expect(paths.length).toBeGreaterThan(15);
    for (const path of paths) {
      const help = (await runCli([...path, '--help'])).stdout;
      expect(flagsOf(help, 'Global Options:'), path.join(' ')).toEqual(globals);
    }
  });

  it('`profile add --help` shows the --env it requires', async () => {
    const help = (await runCli(['profile', 'add', '--help'])).stdout;
    expect(help).toMatch(/Global Options:\n(?:.*\n)*? {2}--env <environment>/);
  });

  it('a usage error names the command it is about', async () => {
    for (const path of await leafCommandPaths()) {
      const run = await runCli([...path, '--no-such-flag']);
      expect(run.code, path.join(' ')).toBe(2);
      expect(run.stderr, path.join(' ')).toContain(`See \`smile ${path.join(' ')} --help\`.`);
    }
    const root = await runCli(['--no-such-flag']);
    expect(root.stderr).toContain('See `smile --help`.');
  });
});

describe('smile explain knows every code smile prints', () => {
  it('every selfie finding code in the source is explained (the list is read from src/selfie)', async () => {
    const codes = findingCodesInSource();
    expect(codes).toEqual(expect.arrayContaining(['too_small', 'empty_file', 'no_face']));
    expect([...findingCodes()].sort()).toEqual(codes);
    for (const code of codes) {
      const run = await runCli(['explain', code, '--json']);
      expect(run.code, code).toBe(0);
      expect(run.json(), code).toMatchObject({ ok: true, code, family: 'selfie' });
    }
  });

  it('every exit code of errors.ts is explained, by number and as exit-N, and listed in help exit-codes', async () => {
    const topic = (await runCli(['help', 'exit-codes'])).stdout;
    for (const [name, exit] of Object.entries(ExitCode)) {
      for (const word of [String(exit), `exit-${exit}`]) {
        const run = await runCli(['explain', word, '--json']);
        expect(run.code, word).toBe(0);
        expect(run.json(), word).toMatchObject({ ok: true, family: 'exit', exit, name });
      }
      expect(topic).toMatch(new RegExp(`^ {2}${exit} +\\S`, 'm'));
    }
    const human = await runCli(['explain', '4']);
    expect(human.stdout).toMatch(/^exit 4 · input\n {2}invalid input/);
  });

  it('numbers: 1–2 digits are exit codes, 3 digits HTTP statuses or zero-padded Smile ID codes, 4 digits Smile ID', async () => {
    expect((await runCli(['explain', '8', '--json'])).json()).toMatchObject({ family: 'exit', exit: 8 });
    expect((await runCli(['explain', '429', '--json'])).json()).toMatchObject({ family: 'http', code: '429' });
    expect((await runCli(['explain', '810', '--json'])).json()).toMatchObject({ code: '0810' });
    expect((await runCli(['explain', '0001', '--json'])).json()).toMatchObject({ code: '0001', family: 'result' });
    const unknown = await runCli(['explain', '10']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('10 is not an exit code of smile.');
  });

  it('the explain help says how numbers are read', async () => {
    expect((await runCli(['explain', '--help'])).stdout).toMatch(/1 or 2 digits \(or 130\) is an exit code/);
  });
});

describe('did you mean', () => {
  it.each([
    [['help', 'exit-code'], 'Did you mean exit-codes?'],
    [['help', 'enviroment'], 'Did you mean environment?'],
    [['help', 'regster'], 'Did you mean register?'],
    [['help', 'profile', 'ad'], 'Did you mean profile add'],
    [['explain', 'too_smal'], 'Did you mean too_small?'],
    [['explain', 'face-turnd'], 'Did you mean face_turned?'],
  ])('%j', async (argv, suggestion) => {
    const run = await runCli(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(suggestion);
  });

  it('says nothing when nothing is close', async () => {
    const run = await runCli(['help', 'qqqqqqqq']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('Did you mean');
  });
});

describe('version', () => {
  it.each([['--version'], ['-V'], ['-v'], ['version']])('%s prints the version', async (word) => {
    const run = await runCli([word]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${VERSION}\n`);
  });

  it('`version --json` is a document', async () => {
    const run = await runCli(['version', '--json']);
    expect(run.code).toBe(0);
    expect(run.json()).toEqual({ ok: true, version: VERSION });
  });
});
