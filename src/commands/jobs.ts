import { OUTCOMES } from '../smile/outcome.js';
import { checkId } from '../parse.js';
import { choice, defineCommand, parsed, wholeNumber } from './define.js';

/** Outcomes the history can hold: a registration's, and how one that did not finish ended. */
const HISTORY_OUTCOMES = [...OUTCOMES, 'sent', 'interrupted'] as const;

/** `smile jobs`: the local history of registrations, newest first (src/history/store.ts). */
export default defineCommand({
  name: 'jobs',
  summary: 'list the registrations sent from this machine, newest first (find a lost job id)',
  options: {
    userId: parsed('--user-id <id>', 'only this user', (value) => checkId(value, '--user-id')),
    outcome: choice('--outcome <outcome>', 'only this outcome (sent: no result seen yet)', HISTORY_OUTCOMES),
    limit: wholeNumber('--limit <n>', 'at most this many (0: all that are kept)', 20),
  },
  examples: [
    'smile jobs',
    'smile jobs --user-id u-1 --json',
    'smile jobs --outcome pending --limit 5',
    'smile status --last --wait   # resume the newest',
  ],
  after: `
Kept in the state directory (history.jsonl): at least the last 1,000 registrations of \`smile register\`, with
user id, job id, Smile job id, environment, host, profile, outcome and time. Never images, keys or partner params.
Not kept: --emulator runs (their jobs end with the command) and bulk rows (each run's journal and report list them).
`,
  async run(values, ctx) {
    const [{ RegistrationHistory }, { stateDir }, { statusCommandFor }] = await Promise.all([
      import('../history/store.js'),
      import('../config/paths.js'),
      import('../output/shell.js'),
    ]);
    const history = new RegistrationHistory(stateDir(ctx.env));
    const kept = await history.list();
    const matching = kept.filter(
      (entry) =>
        (values.userId === undefined || entry.user_id === values.userId) &&
        (values.outcome === undefined || entry.outcome === values.outcome),
    );
    const jobs = values.limit === 0 ? matching : matching.slice(0, values.limit);
    ctx.out.result({ ok: true, jobs, matching: matching.length, kept: kept.length, file: history.file }, () => {
      if (kept.length === 0)
        return `No registrations kept yet (${history.file}): \`smile register\` adds each one it sends.`;
      if (jobs.length === 0) return 'No registration kept matches.';
      const rows = jobs.map((entry) => [
        entry.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        entry.environment,
        entry.host,
        entry.profile ?? '-',
        entry.user_id,
        entry.job_id,
        entry.smile_job_id ?? '-',
        entry.error_code ? `${entry.outcome} (${entry.error_code})` : entry.outcome,
      ]);
      const head = ['SENT', 'ENV', 'HOST', 'PROFILE', 'USER', 'JOB', 'SMILE JOB', 'OUTCOME'];
      const widths = head.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
      const line = (cells: string[]) =>
        cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
      return [line(head), ...rows.map(line)].join('\n');
    });
    if (jobs.length < matching.length) ctx.out.info(`${jobs.length} of ${matching.length} shown; --limit 0 shows all.`);
    const newest = jobs[0];
    if (newest) {
      ctx.out.info(
        `Look again at one with: ${statusCommandFor(newest.user_id, newest.job_id, newest.profile ? { profile: newest.profile } : {})}`,
      );
    }
    return 0;
  },
});
