import { isAbsolute, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { RunContext } from '../context.js';
import { CancelledError, UsageError, isSmileCliError } from '../errors.js';
import type { SmileCliError } from '../errors.js';
import { RejectRows } from '../bulk/report.js';
import type { BulkTally, FinishedRun } from '../bulk/summary.js';
import { summaryDocument } from '../bulk/summary.js';
import type { RowResult } from '../bulk/row-result.js';
import type { BulkValues, InputFormat } from '../bulk/values.js';
import { HtmlReportBuilder } from './html-report.js';
import type { ReportMeta, RunState } from './html-report.js';
import { reportRowOf } from './rows.js';
import type { FixContext } from './rows.js';
import { THUMBNAIL_CAP } from './thumbnails.js';

/** Where a run's rows come from, as the page needs it (selfie paths, the row to fix). */
export interface HtmlInputShape {
  format: InputFormat;
  /** CSV header, normalised; undefined for JSONL. */
  columns: readonly string[] | undefined;
  /** Selfie paths in rows are relative to this directory. */
  baseDir: string;
}

/** A row's selfie path as written in the input (CSV column or JSONL key `selfie`), if any. */
export function selfieOf(raw: RowResult['raw'], columns: readonly string[] | undefined): string | undefined {
  let value: unknown;
  if (Array.isArray(raw)) {
    const index = columns?.indexOf('selfie') ?? -1;
    value = index >= 0 ? raw[index] : undefined;
  } else if (raw && typeof raw === 'object') {
    const key = Object.keys(raw).find((name) => name.trim().toLowerCase() === 'selfie');
    value = key === undefined ? undefined : raw[key];
  }
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The fix context of a run's rows: rejects rows with paths from the input's directory, selfies from the current one. */
export function fixContextFor(
  shape: HtmlInputShape,
  options: { resumeCommand: string | null; globals?: FixContext['globals'] },
): FixContext {
  const rejects = new RejectRows({
    format: shape.format,
    columns: shape.columns,
    inputDir: shape.baseDir,
    outputDir: shape.baseDir,
  });
  return {
    resumeCommand: options.resumeCommand,
    globals: options.globals,
    rejectRow: (result) => (result.raw === undefined ? null : (rejects.text(result) ?? null)),
    selfiePath: (result) => {
      const selfie = selfieOf(result.raw, shape.columns);
      if (!selfie) return null;
      const absolute = resolve(shape.baseDir, selfie);
      const fromHere = relative(process.cwd(), absolute);
      return fromHere.startsWith('..') || isAbsolute(fromHere) ? absolute : fromHere;
    },
  };
}

/**
 * `smile bulk … --html PATH`: every finished row goes to the page as it finishes (with the time it
 * finished; rows read back from the journal of an earlier run have none), and the page is written
 * once the run is over, from the same figures as the summary.
 */
export class BulkHtmlReport {
  readonly path: string;
  readonly #builder: HtmlReportBuilder;
  readonly #shape: HtmlInputShape;
  readonly #fix: FixContext;

  constructor(path: string, shape: HtmlInputShape, options: { thumbnails: boolean; fix: FixContext }) {
    this.path = path;
    this.#shape = shape;
    this.#fix = options.fix;
    this.#builder = new HtmlReportBuilder(path, { thumbnails: options.thumbnails ? { cap: THUMBNAIL_CAP } : null });
  }

  add(result: RowResult): void {
    const row = reportRowOf(result, this.#fix, { at: result.fromJournal ? null : Date.now() });
    const selfie = selfieOf(result.raw, this.#shape.columns);
    this.#builder.add(row, selfie ? resolve(this.#shape.baseDir, selfie) : null);
  }

  /** Write the page from the run's summary. */
  async finish(
    tally: BulkTally,
    run: FinishedRun,
    extra: { partnerId: string | null; startedAt: number },
  ): Promise<void> {
    const summary = summaryDocument(tally, run);
    const state: RunState = run.stopped
      ? 'stopped'
      : run.interrupted
        ? 'interrupted'
        : run.dryRun
          ? 'dry run'
          : tally.retryable + tally.failed > 0
            ? 'attention'
            : 'done';
    const meta: ReportMeta = {
      input: run.input,
      environment: run.environment ?? null,
      partnerId: extra.partnerId,
      shard: run.shard,
      state,
      exitCode: run.exitCode,
      startedAt: extra.startedAt,
      finishedAt: extra.startedAt + run.elapsedMs,
      elapsedMs: run.elapsedMs,
      rowsPerSecond: summary.rows_per_second,
      rowsInInput: run.rowsInInput,
      retries: run.requests.retries,
      rateLimitPauses: run.requests.rateLimitPauses,
      resumes: [],
      journal: run.journal,
      stopped: run.stopped ? { message: run.stopped.message, hint: run.stopped.hint ?? null } : null,
      nextStep: summary.next_step,
      source: 'a smile bulk run',
    };
    await this.#builder.finish(meta);
  }

  discard(): void {
    this.#builder.discard();
  }
}

/** `--html`: the page of a run, opened (so a path that cannot be written fails before anything is sent). */
export function openBulkHtml(
  path: string,
  options: { shape: HtmlInputShape; thumbnails: boolean; resumeCommand: string; globals: FixContext['globals'] },
): BulkHtmlReport {
  return new BulkHtmlReport(path, options.shape, {
    thumbnails: options.thumbnails,
    fix: fixContextFor(options.shape, { resumeCommand: options.resumeCommand, globals: options.globals }),
  });
}

/** Write the page once the run is over; the error that stops the run when it cannot be written. */
export async function writeHtmlReport(
  html: BulkHtmlReport | undefined,
  tally: BulkTally,
  run: FinishedRun,
  extra: { partnerId: string | null; startedAt: number },
): Promise<SmileCliError | undefined> {
  if (!html) return undefined;
  try {
    await html.finish(tally, run, extra);
    return undefined;
  } catch (error) {
    html.discard();
    if (isSmileCliError(error)) return error;
    throw error;
  }
}

/**
 * `--html-thumbnails` puts people's faces in a file that gets mailed around: in production the
 * operator says yes first. With --yes it is given; on a terminal it is asked (no: the page is
 * made without them); otherwise (no terminal, --json, rows on stdin) it needs --yes, as a
 * production bulk run itself does.
 */
export async function thumbnailsAllowed(
  values: Pick<BulkValues, 'html' | 'file'>,
  ctx: RunContext,
  link: { environment: string | undefined },
): Promise<boolean> {
  if (link.environment !== 'production' || ctx.globals.yes) return true;
  if (!ctx.interactive || ctx.globals.json || values.file === '-')
    throw new UsageError(
      'Selfie thumbnails in a production report need --yes without an interactive terminal (they put faces in the HTML file).',
      {
        code: 'confirmation_required',
        hint: 'Add --yes if your policy allows images in reports, or leave out --html-thumbnails.',
      },
    );
  const answer = await askYesNo(
    ctx,
    `Put selfie thumbnails of the rows that need attention into ${values.html ?? 'the HTML report'} (PRODUCTION faces in a file)? [y/N] `,
  );
  if (!answer) ctx.out.info('No thumbnails: the HTML report is made without images.');
  return answer;
}

async function askYesNo(ctx: RunContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: false });
  try {
    const answer = await rl.question(question, { signal: ctx.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    throw new CancelledError('Cancelled: nothing was sent.');
  } finally {
    rl.close();
  }
}
