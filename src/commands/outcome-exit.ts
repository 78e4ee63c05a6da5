import { ExitCode } from '../errors.js';
import type { ExitCodeValue } from '../errors.js';
import type { Outcome } from '../smile/outcome.js';

/** product.md: approved 0 · rejected 6 · provisional/pending 8 · submitted 0 · error 5. */
export function exitCodeForOutcome(outcome: Outcome): ExitCodeValue {
  switch (outcome) {
    case 'approved':
    case 'submitted':
      return ExitCode.ok;
    case 'rejected':
      return ExitCode.refused;
    case 'provisional':
    case 'pending':
      return ExitCode.notFinal;
    case 'error':
      return ExitCode.api;
  }
}

/** The command that resumes waiting for a job, with the options that pick the same account. */
export function statusCommandFor(userId: string, jobId: string, globals: { profile?: string | undefined; env?: string | undefined; baseUrl?: string | undefined }): string {
  const quote = (value: string) => (/^[A-Za-z0-9_.:/@=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`);
  const parts = ['smile status', `--user-id ${quote(userId)}`, `--job-id ${quote(jobId)}`, '--wait'];
  if (globals.profile) parts.push(`--profile ${quote(globals.profile)}`);
  if (globals.env) parts.push(`--env ${quote(globals.env)}`);
  if (globals.baseUrl) parts.push(`--base-url ${quote(globals.baseUrl)}`);
  return parts.join(' ');
}
