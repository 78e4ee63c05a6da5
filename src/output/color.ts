/**
 * Whether smile colours what it writes, decided per stream (issue 15 item 1): `smile doctor > file`
 * must not get escape codes because stderr is a terminal, nor `… 2>log` because stdout is one.
 *
 * Precedence, as gh does it: the `--color` flag; then CLICOLOR_FORCE / FORCE_COLOR (on, even into a
 * pipe; FORCE_COLOR=0 or false is off); then NO_COLOR (any non-empty value) or CLICOLOR=0 (off); then
 * the stream itself: colour only on a terminal, and not when TERM=dumb.
 */

export const COLOR_MODES = ['auto', 'always', 'never'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

export interface ColorDecision {
  stdout: boolean;
  stderr: boolean;
}

interface MaybeTty {
  isTTY?: boolean;
}

/** What the environment says for every stream, or undefined when it leaves it to the stream. */
function environmentColor(env: NodeJS.ProcessEnv): boolean | undefined {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '0' || force.toLowerCase() === 'false') return false;
    return true;
  }
  const cliForce = env['CLICOLOR_FORCE'];
  if (cliForce !== undefined && cliForce !== '' && cliForce !== '0') return true;
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  if (env['CLICOLOR'] === '0') return false;
  return undefined;
}

/** The colour decision for stdout and stderr, each from its own stream (see the module comment). */
export function decideColor(
  mode: ColorMode | undefined,
  env: NodeJS.ProcessEnv,
  streams: { stdout: MaybeTty; stderr: MaybeTty },
): ColorDecision {
  if (mode === 'always') return { stdout: true, stderr: true };
  if (mode === 'never') return { stdout: false, stderr: false };
  const fromEnv = environmentColor(env);
  if (fromEnv !== undefined) return { stdout: fromEnv, stderr: fromEnv };
  const dumb = env['TERM'] === 'dumb';
  return { stdout: Boolean(streams.stdout.isTTY) && !dumb, stderr: Boolean(streams.stderr.isTTY) && !dumb };
}

/** An SGR sequence (colour, bold, reset). */
// eslint-disable-next-line no-control-regex
const SGR_ALL = /\u001b\[[0-9;]{0,32}m/g;

/** Text without its colour sequences (for a stream that gets no colour). */
export function stripColour(text: string): string {
  return text.includes('\u001b') ? text.replace(SGR_ALL, '') : text;
}

/**
 * chalk (used by ink and ora) decides colour once, from stdout, and reads `--color` in process.argv
 * as "force colour" whatever follows it. Set its level from our decision for the stream that ink or
 * ora is about to write to; `level` is the depth to use when on (the stream's own, at least 16 colours).
 */
export async function useChalkFor(enabled: boolean, stream?: { getColorDepth?: () => number }): Promise<void> {
  const { default: chalk } = await import('chalk');
  if (!enabled) {
    chalk.level = 0;
    return;
  }
  const depth = typeof stream?.getColorDepth === 'function' ? stream.getColorDepth() : 4;
  chalk.level = depth >= 24 ? 3 : depth >= 8 ? 2 : 1;
}
