/**
 * Issue 15 item 1: colour is decided per stream, from each stream's own TTY, with the flag and the
 * environment first. Real terminals come from `script` (a pseudo-TTY); pipes from runCli.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideColor } from '../../src/output/color.js';
import { childEnv } from '../helpers/child-env.js';
import { SGR, runToEndInPty, shellQuote } from '../helpers/pty.js';
import { runCli } from '../helpers/run-cli.js';

const SELFIE = 'fixtures/selfies/demo.jpg';
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-color-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** A user's terminal: no NO_COLOR (childEnv sets it), a real TERM, no CI. */
function terminalEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NO_COLOR: _ignored, ...env } = childEnv(home, {
    TERM: 'xterm-256color',
    SMILE_CONFIG_DIR: join(home, 'cfg'),
  });
  return { ...env, ...extra };
}

describe('decideColor', () => {
  const tty = { isTTY: true };
  const pipe = {};
  it.each([
    ['both terminals', undefined, {}, tty, tty, { stdout: true, stderr: true }],
    ['stdout to a file', undefined, {}, pipe, tty, { stdout: false, stderr: true }],
    ['stderr to a file', undefined, {}, tty, pipe, { stdout: true, stderr: false }],
    ['NO_COLOR', undefined, { NO_COLOR: '1' }, tty, tty, { stdout: false, stderr: false }],
    ['NO_COLOR empty is not set', undefined, { NO_COLOR: '' }, tty, tty, { stdout: true, stderr: true }],
    ['CLICOLOR=0', undefined, { CLICOLOR: '0' }, tty, tty, { stdout: false, stderr: false }],
    ['TERM=dumb', undefined, { TERM: 'dumb' }, tty, tty, { stdout: false, stderr: false }],
    ['CLICOLOR_FORCE into pipes', undefined, { CLICOLOR_FORCE: '1' }, pipe, pipe, { stdout: true, stderr: true }],
    ['CLICOLOR_FORCE=0 forces nothing', undefined, { CLICOLOR_FORCE: '0' }, pipe, tty, { stdout: false, stderr: true }],
    ['FORCE_COLOR into pipes', undefined, { FORCE_COLOR: '1' }, pipe, pipe, { stdout: true, stderr: true }],
    ['FORCE_COLOR=0 is off', undefined, { FORCE_COLOR: '0' }, tty, tty, { stdout: false, stderr: false }],
    [
      'force beats NO_COLOR (as gh)',
      undefined,
      { NO_COLOR: '1', CLICOLOR_FORCE: '1' },
      pipe,
      pipe,
      { stdout: true, stderr: true },
    ],
    ['--color never beats FORCE_COLOR', 'never', { FORCE_COLOR: '3' }, tty, tty, { stdout: false, stderr: false }],
    ['--color always beats NO_COLOR', 'always', { NO_COLOR: '1' }, pipe, pipe, { stdout: true, stderr: true }],
    ['--color auto is the streams', 'auto', {}, pipe, tty, { stdout: false, stderr: true }],
  ] as const)('%s', (_name, mode, env, stdout, stderr, expected) => {
    expect(decideColor(mode, env, { stdout, stderr })).toEqual(expected);
  });
});

describe('colour on pipes (in-process)', () => {
  it('no escape codes on piped stdout or stderr, even with colours asked of nothing', async () => {
    const run = await runCli(['selfie', 'check', SELFIE, 'missing.jpg'], { env: { NO_COLOR: undefined } });
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('✓');
    expect(run.stdout).not.toMatch(SGR);
    expect(run.stderr).not.toMatch(SGR);
  });

  it.each([
    ['--color always', ['--color', 'always'], { NO_COLOR: '1' }],
    ['CLICOLOR_FORCE=1', [], { NO_COLOR: undefined, CLICOLOR_FORCE: '1' }],
    ['FORCE_COLOR=1', [], { NO_COLOR: undefined, FORCE_COLOR: '1' }],
  ])('%s colours both pipes', async (_name, flags, env) => {
    const ok = await runCli(['selfie', 'check', SELFIE, ...flags], { env });
    expect(ok.stdout).toMatch(SGR);
    const failed = await runCli(['explain', 'nope', ...flags], { env });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(SGR);
  });

  it('--color takes only auto, always or never (exit 2)', async () => {
    const run = await runCli(['selfie', 'check', SELFIE, '--color', 'sometimes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--color <when>.*sometimes/s);
  });
});

describe('colour on a real terminal (script)', () => {
  it('both streams on the terminal: both coloured', async () => {
    const ok = await runToEndInPty(['selfie', 'check', SELFIE], terminalEnv());
    expect(ok.code).toBe(0);
    expect(ok.screen).toMatch(SGR);
    const failed = await runToEndInPty(['explain', 'nope'], terminalEnv());
    expect(failed.code).toBe(2);
    expect(failed.screen).toMatch(SGR);
  });

  it('`> file` with stderr on the terminal: the file has no escape codes, stderr keeps its colour', async () => {
    const out = join(home, 'stdout.txt');
    const run = await runToEndInPty(['selfie', 'check', SELFIE, 'missing.jpg'], terminalEnv(), `> ${shellQuote(out)}`);
    expect(run.code).toBe(4);
    const file = await readFile(out, 'utf8');
    expect(file).toContain('✓');
    expect(file).not.toMatch(SGR);
    const error = join(home, 'stdout-error.txt');
    const failed = await runToEndInPty(['explain', 'nope'], terminalEnv(), `> ${shellQuote(error)}`);
    expect(failed.screen).toMatch(SGR);
    expect(failed.screen).toContain('not a code smile knows');
  });

  it('`2> file` with stdout on the terminal: stdout coloured, the file plain', async () => {
    const err = join(home, 'stderr.txt');
    const run = await runToEndInPty(['explain', 'nope'], terminalEnv(), `2> ${shellQuote(err)}`);
    expect(run.code).toBe(2);
    const file = await readFile(err, 'utf8');
    expect(file).toContain('not a code smile knows');
    expect(file).not.toMatch(SGR);
    const ok = await runToEndInPty(['selfie', 'check', SELFIE], terminalEnv(), `2> ${shellQuote(err)}`);
    expect(ok.screen).toMatch(SGR);
  });

  it('`| cat -v`: no ^[ in what the pipe receives', async () => {
    const run = await runToEndInPty(['selfie', 'check', SELFIE], terminalEnv(), '| cat -v');
    expect(run.screen).toContain('demo.jpg');
    expect(run.screen).not.toContain('^[');
  });

  it.each([
    ['NO_COLOR=1', [], { NO_COLOR: '1' }],
    ['CLICOLOR=0', [], { CLICOLOR: '0' }],
    ['--color never (chalk alone would read `--color` as "force")', ['--color', 'never'], {}],
    ['--color=never', ['--color=never'], {}],
  ])('%s: no colour on a terminal, ink card and ora spinner included', async (_name, flags, extra) => {
    const run = await runToEndInPty(
      ['register', '--emulator', '--user-id', 'u-colour', '--selfie', SELFIE, ...flags],
      terminalEnv(extra),
    );
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain('Approved');
    expect(run.screen).not.toMatch(SGR);
  });

  it('the ink card and ora spinner are coloured on a terminal', async () => {
    const run = await runToEndInPty(
      ['register', '--emulator', '--user-id', 'u-colour', '--selfie', SELFIE],
      terminalEnv(),
    );
    expect(run.code, run.screen).toBe(0);
    expect(run.screen).toContain('Approved');
    expect(run.screen).toMatch(SGR);
  });
});
