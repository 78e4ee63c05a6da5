import { arg, defineCommand, flag, requiredText, text } from './define.js';

/** `smile report JOURNAL --html OUT`: the HTML page of a finished or interrupted bulk run; nothing is sent. */
export default defineCommand({
  name: 'report',
  summary: 'a self-contained HTML report of a bulk run, from its journal (nothing is sent)',
  args: { journal: arg('<journal>', "the run's journal (FILE.smile-journal.jsonl, or its --journal PATH)") },
  options: {
    html: requiredText('--html <path>', 'the HTML file to write (one file: no network, no external scripts)'),
    report: text('--report <path>', "the run's --report file (.csv or .jsonl): adds the invalid rows, never sent"),
    input: text('--input <path>', "the run's input (default: the journal's own record of it, or beside the journal)"),
    htmlThumbnails: flag(
      '--html-thumbnails',
      'put small selfie thumbnails of the rows that need attention in the page (asks in production)',
    ),
  },
  examples: [
    'smile report users.csv.smile-journal.jsonl --html report.html',
    'smile report users.csv.smile-journal.jsonl --report report.csv --html report.html --html-thumbnails',
  ],
  after: `
Works on a finished run and on one that was interrupted (rows in flight are shown as pending, with the
command that finishes the run). Rows appear in input order; thumbnails are at most 96 px, re-encoded
without metadata, and capped at 200 (the page says so). The page holds no API key and nothing signed.
Exit codes: 0 written · 2 usage · 4 the journal, report or input cannot be read · 5 the page cannot be written.
`,
  async run(values, ctx) {
    const { runReport } = await import('../report/from-journal.js');
    return runReport(values, ctx);
  },
});
