/**
 * Shell completion for real: the bash script is sourced by bash and its function called with
 * COMP_WORDS/COMP_CWORD, with `smile` on PATH as the packaged binary (profile names are asked of
 * it at TAB time); fish's is asked with `complete -C`; zsh's and fish's are syntax-checked with
 * `zsh -n` / `fish -n`. Without zsh or fish those checks skip and say so; SMILE_REQUIRE_SHELLS=1
 * (CI) makes that a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REQUIRED = process.env['SMILE_REQUIRE_SHELLS'] === '1';
const run = promisify(execFile);

function which(command: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, command)));
}
const shells = { zsh: which('zsh'), fish: which('fish') };
for (const [shell, present] of Object.entries(shells))
  if (!present && !REQUIRED)
    console.warn(
      `completion: ${shell} checks skipped, ${shell} is not installed (SMILE_REQUIRE_SHELLS=1 makes this a failure)`,
    );

let home: string;
let env: NodeJS.ProcessEnv;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-completion-'));
  const bin = join(home, 'bin');
  await mkdir(bin);
  // `smile` on PATH is the packaged binary, as for a user.
  await writeFile(
    join(bin, 'smile'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'smile.js')}" "$@"\n`,
  );
  await chmod(join(bin, 'smile'), 0o755);
  env = { PATH: `${bin}:${process.env['PATH'] ?? ''}`, HOME: home, SMILE_CONFIG_DIR: join(home, 'config') };
  for (const [name, environment] of [
    ['sandbox', 'sandbox'],
    ['prod-eu', 'production'],
  ] as const) {
    const added = await runCli(
      ['profile', 'add', name, '--partner-id', '085', '--env', environment, '--api-key-file', '-'],
      { env, stdin: 'key-7f3a9c1e5b2d4086' },
    );
    expect(added.code, added.stderr).toBe(0);
  }
  for (const shell of ['bash', 'zsh', 'fish']) {
    const made = await runCli(['completion', shell], { env });
    expect(made.code, made.stderr).toBe(0);
    scripts[shell] = join(home, `smile.${shell}`);
    await writeFile(scripts[shell]!, made.stdout);
  }
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

/** What bash completes for a command line; a trailing space starts a new, empty word. */
async function bashComplete(line: string): Promise<string[]> {
  const program = `source "$1"; read -ra COMP_WORDS <<< "$2"; if [[ "$2" == *' ' ]]; then COMP_WORDS+=(''); fi
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _smile_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run('bash', ['-c', program, 'bash', scripts['bash']!, line], { env });
  return stdout.split('\n').filter((word) => word !== '');
}

describe('bash completion (sourced and called as bash would)', () => {
  it('--profile <TAB> completes profile names read at TAB time, never a key', async () => {
    expect(await bashComplete('smile --profile ')).toEqual(['prod-eu', 'sandbox']);
    expect(await bashComplete('smile register --profile pr')).toEqual(['prod-eu']);
    expect(await bashComplete('smile profile use ')).toEqual(['prod-eu', 'sandbox']);
    expect(await bashComplete('smile profile set s')).toEqual(['sandbox']);
    const listed = await runCli(['completion', '__profiles'], { env });
    expect(listed.stdout).toBe('prod-eu\nsandbox\n');
    expect(listed.stdout).not.toContain('key-');
  });

  it('choice flags complete their values from the specs', async () => {
    expect(await bashComplete('smile --env ')).toEqual(['sandbox', 'production']);
    expect(await bashComplete('smile register --env p')).toEqual(['production']);
    expect(await bashComplete('smile bulk --format ')).toEqual(['csv', 'jsonl']);
    expect(await bashComplete('smile register --sandbox-result ')).toEqual(['approve', 'reject', 'provisional']);
    expect(await bashComplete('smile status --expect ')).toContain('approved');
  });

  it('help, explain and completion complete their words; commands and flags as before', async () => {
    const help = await bashComplete('smile help ');
    expect(help).toEqual(expect.arrayContaining(['exit-codes', 'environment', 'register', 'profile']));
    expect(help.some((word) => word.startsWith('-'))).toBe(false);
    expect(await bashComplete('smile explain 220')).toEqual(expect.arrayContaining(['2205', '2209']));
    // smile's own error codes too (issue 15 item 8).
    expect(await bashComplete('smile explain journal_lo')).toEqual(['journal_locked', 'journal_lock_io']);
    expect(await bashComplete('smile completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(await bashComplete('smile pro')).toEqual(['profile']);
    expect(await bashComplete('smile profile ')).toEqual(['add', 'list', 'use', 'show', 'set', 'remove']);
    expect(await bashComplete('smile profile add x --p')).toEqual(
      expect.arrayContaining(['--partner-id', '--profile']),
    );
    // The value of a flag is never taken for a command: after `--profile sandbox`, `prof` is still `profile`.
    expect(await bashComplete('smile --profile sandbox prof')).toEqual(['profile']);
    expect(await bashComplete('smile --profile profile ')).toContain('register');
  });

  it('a flag that takes a file completes file names', async () => {
    expect(await bashComplete(`smile register --selfie ${join(home, 'smile.b')}`)).toEqual([join(home, 'smile.bash')]);
  });
});

describe('zsh and fish scripts', () => {
  it.runIf(shells.zsh || REQUIRED)('zsh -n accepts the zsh script', async () => {
    await expect(run('zsh', ['-n', scripts['zsh']!], { env })).resolves.toBeDefined();
  });

  it.runIf(shells.fish || REQUIRED)('fish -n accepts the fish script, and fish completes from it', async () => {
    await expect(run('fish', ['-n', scripts['fish']!], { env })).resolves.toBeDefined();
    const complete = async (line: string) => {
      const { stdout } = await run('fish', ['-c', `source ${scripts['fish']!}; complete -C '${line}'`], { env });
      return stdout
        .split('\n')
        .filter((entry) => entry !== '')
        .map((entry) => entry.split('\t')[0]);
    };
    expect(await complete('smile --env ')).toEqual(['production', 'sandbox']);
    expect(await complete('smile --profile ')).toEqual(['prod-eu', 'sandbox']);
    expect(await complete('smile help ')).toEqual(expect.arrayContaining(['exit-codes', 'environment', 'register']));
    expect(await complete('smile profile ')).toEqual(['add', 'list', 'remove', 'set', 'show', 'use']);
  });
});
