import { printable } from '../errors.js';

/**
 * A value as one word of a shell command line that smile prints for the operator to run (a resume
 * command, a chmod): left bare when it is plainly safe, else single-quoted. Control characters are
 * shown escaped (the line is for a terminal), so such a value is for reading, not pasting.
 */
export function shellQuote(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value)
    ? value
    : `'${printable(value, Number.POSITIVE_INFINITY).replace(/'/g, `'\\''`)}'`;
}

/** The command that resumes waiting for a job (`wait: false`: that reads its status once), with the options that pick the same account. */
export function statusCommandFor(
  userId: string,
  jobId: string,
  globals: { profile?: string | undefined; env?: string | undefined; baseUrl?: string | undefined },
  options: { wait?: boolean } = {},
): string {
  const parts = [
    'smile status',
    `--user-id ${shellQuote(userId)}`,
    `--job-id ${shellQuote(jobId)}`,
    ...(options.wait === false ? [] : ['--wait']),
  ];
  if (globals.profile) parts.push(`--profile ${shellQuote(globals.profile)}`);
  if (globals.env) parts.push(`--env ${shellQuote(globals.env)}`);
  if (globals.baseUrl) parts.push(`--base-url ${shellQuote(globals.baseUrl)}`);
  return parts.join(' ');
}
