import { IF_ENROLLED_ACTIONS, INPUT_FORMATS, checkConcurrency, checkMaxAttempts, checkRate } from '../bulk/values.js';
import type { BulkValues } from '../bulk/values.js';
import { parseShardFlag } from '../bulk/shard.js';
import { DEFAULT_TIMEOUT } from '../parse.js';
import { UsageError } from '../errors.js';
import {
  arg,
  choice,
  decimal,
  defineCommand,
  duration,
  flag,
  negatedFlag,
  parsed,
  text,
  wholeNumber,
} from './define.js';
import { SKIP_FACE_CHECK_HELP } from './help-topics.js';

export default defineCommand({
  name: 'bulk',
  summary: 'register many people from CSV or JSONL: concurrency, retries, journal, resume, report',
  args: { file: arg('<file>', 'CSV (with a header) or JSONL file, or - for stdin') },
  options: {
    format: choice('--format <format>', 'input format (default: by extension)', INPUT_FORMATS),
    concurrency: wholeNumber('--concurrency <n>', 'registrations in flight at once', 4, checkConcurrency),
    rate: decimal('--rate <n>', 'requests per second, shared by all workers', checkRate),
    maxAttempts: wholeNumber('--max-attempts <n>', 'attempts per request for retryable failures', 5, checkMaxAttempts),
    journal: text('--journal <path>', 'journal file (default FILE.smile-journal.jsonl)'),
    resume: flag('--resume', 'finish a run from its journal: every row exactly once'),
    ifEnrolled: choice(
      '--if-enrolled <action>',
      'when a user is already registered (2209)',
      IF_ENROLLED_ACTIONS,
      'fail',
    ),
    wait: negatedFlag('--no-wait', 'only submit; results arrive at the callback URL'),
    timeout: duration('--timeout <duration>', 'how long to wait for each result', DEFAULT_TIMEOUT),
    report: text('--report <path>', 'one line per input row with its outcome, in input order (.csv or .jsonl)'),
    rejects: text(
      '--rejects <path>',
      'failed rows in the input format plus a reason column, in input order, ready to re-run',
    ),
    html: text('--html <path>', 'also write a self-contained HTML report of the run (summary, chart, rows to fix)'),
    htmlThumbnails: flag(
      '--html-thumbnails',
      'put small selfie thumbnails of the rows that need attention in the --html page (asks in production)',
    ),
    dryRun: flag('--dry-run', 'check every row and selfie, print the plan, send nothing'),
    skipFaceCheck: flag('--skip-face-check', SKIP_FACE_CHECK_HELP),
    shard: parsed(
      '--shard <k/n>',
      'only rows whose user_id hashes to shard K of N (1-based); auto/N takes K from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX + 1); env SMILE_SHARD',
      (value) => parseShardFlag(value),
    ),
  },
  examples: [
    'smile bulk users.csv --report report.csv --rejects rejects.csv',
    'smile bulk users.csv --resume',
    'smile bulk users.jsonl --concurrency 16 --rate 20 --if-enrolled skip --json',
    'cat users.csv | smile bulk - --format csv --dry-run',
    'smile bulk users.csv --shard 2/4   # on machine 2 of 4',
    'smile bulk users.csv --shard auto/4   # in each pod of a Kubernetes Indexed Job (completions: 4)',
    'smile bulk users.csv --html report.html --html-thumbnails',
  ],
  after: `
Columns: user_id (required), selfie, job_id, liveness (paths separated by ;), callback_url, allow_re_enroll,
use_enrolled_image, latitude, longitude, altitude, sandbox_result, param.<key>. Paths are relative to the input file.
Order: the --report and --rejects files are in input order (rows are spooled to disk as they finish and sorted at
the end: memory stays flat); the progress lines on stderr come in the order rows finish.
Exit codes: 0 all done · 4 input unusable · 5 some rows need a re-run · 6 some rows failed for good · 9 production run declined at the prompt · 130 interrupted.
`,
  async run({ shard, ...values }, ctx) {
    if (values.htmlThumbnails && !values.html)
      throw new UsageError('--html-thumbnails needs --html PATH.', {
        hint: 'e.g. smile bulk users.csv --html report.html --html-thumbnails',
      });
    const [{ runBulk }, { resolveShard }] = await Promise.all([import('../bulk/run.js'), import('../bulk/shard.js')]);
    const bulk: BulkValues = { ...values, shard: resolveShard(shard, ctx.env) };
    return runBulk(bulk, ctx);
  },
});
