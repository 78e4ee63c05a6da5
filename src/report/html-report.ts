import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, SmileCliError } from '../errors.js';
import { syncDirectory, writeFailureReason, writeFullySync } from '../fs/durable.js';
import { OrderedSpool } from '../bulk/ordered-spool.js';
import { BULK_OUTCOMES } from '../bulk/summary.js';
import type { BulkOutcome } from '../bulk/row-result.js';
import { PAGE_SCRIPT, PAGE_STYLE, chartSvg, contentSecurityPolicy, escapeHtml } from './page.js';
import { needsAttention } from './rows.js';
import type { ReportRow } from './rows.js';
import { THUMBNAIL_SIZE, thumbnailDataUri } from './thumbnails.js';

/** How a run ended, as the page's header says it. */
export type RunState = 'done' | 'attention' | 'interrupted' | 'stopped' | 'dry run' | 'unfinished';

/** What the page says of the run besides its rows. */
export interface ReportMeta {
  input: string;
  environment: string | null;
  partnerId: string | null;
  shard: string | null;
  state: RunState;
  exitCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  elapsedMs: number | null;
  rowsPerSecond: number | null;
  rowsInInput: number | null;
  retries: number | null;
  rateLimitPauses: number | null;
  resumes: readonly number[];
  journal: string | null;
  /** The error that stopped the run, in words. */
  stopped: { message: string; hint: string | null } | null;
  nextStep: string | null;
  /** Where the page was made from (`smile bulk`, or the journal and report it was read from). */
  source: string;
}

/** Thumbnails: off, or on with a cap (the rows that need attention, in input order). */
export interface ThumbnailOptions {
  cap: number;
}

const HTML_CHUNK = 256 * 1024;

/** Up to this many rows the "All rows" table is open when the page opens; above, folded (it opens in a click). */
export const OPEN_ALL_ROWS = 2000;

/**
 * `--html`: a self-contained HTML page of a bulk run, built as rows finish with flat memory. Each
 * row goes to a spool on disk (two: every row, and the rows that need attention in full); memory
 * keeps counts, the finish times (12 bytes a row) and at most `cap` selfie paths for thumbnails.
 * `finish` writes the page to a temporary file beside the target, in input order, and renames it
 * over the target once whole and flushed. A failure names the file (exit 5).
 */
export class HtmlReportBuilder {
  readonly path: string;
  readonly #temp: string;
  #fd: number | undefined;
  readonly #all: OrderedSpool;
  readonly #attention: OrderedSpool;
  readonly #thumbnails: ThumbnailOptions | null;
  readonly #counts = new Map<BulkOutcome, number>();
  #rows = 0;
  #earlier = 0;
  #times = new Float64Array(1024);
  #outcomes = new Uint8Array(1024);
  #timed = 0;
  /** Selfies of the rows that need attention with the lowest lines (at most the cap), sorted by line. */
  #selfies: { line: number; path: string }[] = [];
  #attentionWithSelfie = 0;
  #buffer: string[] = [];
  #bufferSize = 0;
  #failed: SmileCliError | undefined;

  constructor(path: string, options: { thumbnails: ThumbnailOptions | null; openHint?: string }) {
    this.path = path;
    this.#thumbnails = options.thumbnails;
    this.#temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      this.#fd = openSync(this.#temp, 'wx', 0o644);
      this.#all = new OrderedSpool(path);
      this.#attention = new OrderedSpool(path);
    } catch (error) {
      this.discard();
      throw new SmileCliError(
        `The HTML report ${path} cannot be written: ${writeFailureReason(error)}.`,
        ExitCode.api,
        'html_write',
        {
          hint:
            options.openHint ??
            'Nothing was sent. Pick an --html path in a directory you can write to, then run again.',
          cause: error,
        },
      );
    }
  }

  /** One finished row (any order); `selfie` is its selfie's path, for a thumbnail. */
  add(row: ReportRow, selfie?: string | null): void {
    if (this.#failed) throw this.#failed;
    this.#rows++;
    this.#counts.set(row.outcome, (this.#counts.get(row.outcome) ?? 0) + 1);
    if (row.earlier) this.#earlier++;
    if (row.at !== null) this.#time(row.at, row.outcome);
    try {
      this.#all.add(row.line, allRowHtml(row));
      if (needsAttention(row)) {
        this.#attention.add(row.line, `${JSON.stringify(row)}\n`);
        if (selfie && this.#thumbnails) this.#keepSelfie(row.line, selfie, this.#thumbnails.cap);
      }
    } catch (error) {
      throw this.#fail(error);
    }
  }

  get rows(): number {
    return this.#rows;
  }

  /** Write the page (thumbnails made now, when asked) and put it in place. */
  async finish(meta: ReportMeta): Promise<void> {
    if (this.#failed) throw this.#failed;
    const thumbnails = new Map<number, string>();
    for (let index = 0; index < this.#selfies.length; index += 4) {
      const batch = this.#selfies.slice(index, index + 4);
      const made = await Promise.all(batch.map((item) => thumbnailDataUri(item.path)));
      batch.forEach((item, offset) => {
        const uri = made[offset];
        if (uri) thumbnails.set(item.line, uri);
      });
    }
    const fd = this.#fd;
    if (fd === undefined) return;
    try {
      this.#page(meta, thumbnails);
      this.#flush();
      fsyncSync(fd);
      closeSync(fd);
      this.#fd = undefined;
      renameSync(this.#temp, this.path);
      syncDirectory(dirname(this.path));
    } catch (error) {
      this.discard();
      throw this.#fail(error);
    } finally {
      this.#all.dispose();
      this.#attention.dispose();
    }
  }

  /** Give up: remove the temporary file and the spools (the target is left as it was). */
  discard(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // going anyway
      }
      try {
        unlinkSync(this.#temp);
      } catch {
        // never made
      }
    }
    // The spools may not exist when the constructor failed.
    (this.#all as OrderedSpool | undefined)?.dispose();
    (this.#attention as OrderedSpool | undefined)?.dispose();
  }

  #time(at: number, outcome: BulkOutcome): void {
    if (this.#timed === this.#times.length) {
      const times = new Float64Array(this.#times.length * 2);
      times.set(this.#times);
      const outcomes = new Uint8Array(this.#outcomes.length * 2);
      outcomes.set(this.#outcomes);
      this.#times = times;
      this.#outcomes = outcomes;
    }
    this.#times[this.#timed] = at;
    this.#outcomes[this.#timed] = BULK_OUTCOMES.indexOf(outcome);
    this.#timed++;
  }

  #keepSelfie(line: number, path: string, cap: number): void {
    this.#attentionWithSelfie++;
    if (cap <= 0) return;
    const list = this.#selfies;
    if (list.length >= cap) {
      if (line > list[list.length - 1]!.line) return;
      list.pop();
    }
    let at = list.length;
    while (at > 0 && list[at - 1]!.line > line) at--;
    list.splice(at, 0, { line, path });
  }

  #write(text: string): void {
    this.#buffer.push(text);
    this.#bufferSize += text.length;
    if (this.#bufferSize >= HTML_CHUNK) this.#flush();
  }

  #flush(): void {
    if (this.#buffer.length === 0 || this.#fd === undefined) return;
    const bytes = Buffer.from(this.#buffer.join(''), 'utf8');
    this.#buffer = [];
    this.#bufferSize = 0;
    writeFullySync(this.#fd, bytes);
  }

  #fail(error: unknown): SmileCliError {
    if (error instanceof SmileCliError) return error;
    this.#failed ??= new SmileCliError(
      `The HTML report ${this.path} could not be written: ${writeFailureReason(error)}.`,
      ExitCode.api,
      'html_write',
      {
        hint: 'Free disk space or fix the permissions, then make it again from the journal with smile report JOURNAL --html PATH.',
        cause: error,
      },
    );
    return this.#failed;
  }

  #page(meta: ReportMeta, thumbnails: Map<number, string>): void {
    const attention = this.#attention.count;
    const title = `smile bulk report · ${meta.input}`;
    this.#write(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
        `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(PAGE_SCRIPT)}">` +
        `<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">` +
        `<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head><body><main>\n`,
    );
    this.#write(headerHtml(meta, this.#rows, attention));
    this.#write(countsHtml(this.#counts, this.#rows));
    this.#write(
      `<section class="chart"><h2>Rows finished over time</h2>${chartSvg({
        times: this.#times,
        outcomes: this.#outcomes,
        count: this.#timed,
        outcomeNames: BULK_OUTCOMES,
        resumes: meta.resumes,
      })}${legendHtml(this.#counts)}${
        this.#earlier > 0 && this.#timed < this.#rows
          ? `<p class="note">${this.#rows - this.#timed} row(s) finished in an earlier run without a recorded time are not in the chart.</p>`
          : ''
      }</section>\n`,
    );
    this.#write(controlsHtml(this.#counts, attention, this.#rows));
    // Rows that need attention, in full.
    this.#write(`<section id="attention"><h2>Needs attention (${attention})</h2>`);
    this.#write(`<p class="note">${escapeHtml(this.#thumbnailNote(thumbnails.size))}</p>`);
    this.#write(
      `<table id="attention-table"><thead><tr><th>Line</th><th>User id</th><th>Outcome</th><th>Code</th><th>Why</th><th>To fix it</th>${this.#thumbnails ? '<th>Selfie</th>' : ''}</tr></thead><tbody>\n`,
    );
    let pending = '';
    for (const chunk of this.#attention.sorted()) {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines)
        if (line) this.#write(attentionRowHtml(JSON.parse(line) as ReportRow, thumbnails, this.#thumbnails !== null));
    }
    this.#write(
      `</tbody></table><p class="empty" id="attention-empty"${attention > 0 ? ' hidden' : ''}>No row needs attention.</p></section>\n`,
    );
    // Every row, compact. Laying out a table of many thousand rows is what makes a big page slow
    // to open: past OPEN_ALL_ROWS the table starts folded, and opens on a click, a filter or a search.
    const open = this.#rows <= OPEN_ALL_ROWS ? ' open' : '';
    this.#write(
      `<section id="all"><details id="all-rows"${open}><summary><h2>All rows (${this.#rows})</h2>${open ? '' : ' <span class="note">folded: click, filter or search to show them</span>'}</summary><table id="all-table"><thead><tr><th>Line</th><th>User id</th><th>Outcome</th><th>Code</th><th>Job id</th><th>Smile job id</th></tr></thead>\n<tbody>`,
    );
    let inGroup = 0;
    for (const chunk of this.#all.sorted()) {
      const text = chunk.toString('utf8');
      for (const row of text.split('\n')) {
        if (!row) continue;
        if (inGroup === 250) {
          this.#write('</tbody><tbody>');
          inGroup = 0;
        }
        this.#write(row);
        this.#write('\n');
        inGroup++;
      }
    }
    this.#write(
      `</tbody></table></details><p class="empty" id="all-empty"${this.#rows > 0 ? ' hidden' : ''}>No rows.</p></section>\n`,
    );
    this.#write(
      `<footer>Made by smile from ${escapeHtml(meta.source)} on ${escapeHtml(timeText(Date.now()))}. One file: no network, no external scripts, fonts or images. It holds no API key and nothing signed; ${this.#thumbnails ? 'selfie thumbnails were asked for with --html-thumbnails.' : 'no images (--html-thumbnails adds small selfie thumbnails of the rows that need attention).'}</footer>\n`,
    );
    this.#write(`</main><script>${PAGE_SCRIPT}</script></body></html>\n`);
  }

  #thumbnailNote(made: number): string {
    if (!this.#thumbnails) return 'No selfie thumbnails in this page (add --html-thumbnails to include them).';
    const wanted = this.#attentionWithSelfie;
    const capped = wanted > this.#thumbnails.cap;
    return `Selfie thumbnails (at most ${THUMBNAIL_SIZE} px, re-encoded without metadata): ${made} of ${wanted} row(s) with a selfie${capped ? `; capped at the first ${this.#thumbnails.cap} rows in input order` : ''}${made < Math.min(wanted, this.#thumbnails.cap) ? '; a row without one has a selfie that could not be read' : ''}.`;
  }
}

function timeText(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

function durationText(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const STATE_WORDS: Record<RunState, string> = {
  done: 'Done',
  attention: 'Done, some rows need attention',
  interrupted: 'Interrupted',
  stopped: 'Stopped',
  'dry run': 'Dry run',
  unfinished: 'Not finished',
};

function headerHtml(meta: ReportMeta, rows: number, attention: number): string {
  const facts: [string, string][] = [
    ['Environment', meta.environment ?? 'not recorded'],
    ['Partner', meta.partnerId ?? 'not recorded'],
    ['Rows', meta.rowsInInput !== null && meta.rowsInInput !== rows ? `${rows} of ${meta.rowsInInput}` : String(rows)],
    ['Need attention', String(attention)],
    ['Started', meta.startedAt === null ? 'not recorded' : timeText(meta.startedAt)],
    ['Finished', meta.finishedAt === null ? 'not recorded' : timeText(meta.finishedAt)],
    ['Elapsed', meta.elapsedMs === null ? 'not recorded' : durationText(meta.elapsedMs)],
    ['Rate', meta.rowsPerSecond === null ? 'not recorded' : `${meta.rowsPerSecond.toFixed(1)} rows/s`],
    ['Request retries', meta.retries === null ? 'not recorded' : String(meta.retries)],
    ['Rate-limit pauses (429)', meta.rateLimitPauses === null ? 'not recorded' : String(meta.rateLimitPauses)],
    ['Resumed', meta.resumes.length === 0 ? 'never' : `${meta.resumes.length}×`],
  ];
  if (meta.shard) facts.push(['Shard', meta.shard]);
  if (meta.exitCode !== null) facts.push(['Exit code', String(meta.exitCode)]);
  if (meta.journal) facts.push(['Journal', meta.journal]);
  const next = [
    meta.stopped
      ? `<p><b>${escapeHtml(meta.stopped.message)}</b>${meta.stopped.hint ? ` ${escapeHtml(meta.stopped.hint)}` : ''}</p>`
      : '',
    meta.nextStep ? `<p class="note">Next: ${escapeHtml(meta.nextStep)}</p>` : '',
  ].join('');
  return (
    `<header><h1>Bulk report <span class="state ${meta.state.replace(' ', '-')}">${STATE_WORDS[meta.state]}</span></h1>` +
    `<p class="sub">${escapeHtml(meta.input)}</p>${next}` +
    `<dl class="facts">${facts.map(([name, value]) => `<div><dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd></div>`).join('')}</dl></header>\n`
  );
}

function countsHtml(counts: Map<BulkOutcome, number>, rows: number): string {
  const cards = BULK_OUTCOMES.filter((outcome) => (counts.get(outcome) ?? 0) > 0).map(
    (outcome) =>
      `<div class="count o-${outcome}" data-count="${outcome}"><b>${counts.get(outcome)}</b><span>${outcome}</span></div>`,
  );
  return `<section class="counts" aria-label="Rows per outcome"><div class="count" style="--c:#1f2328" data-count="total"><b>${rows}</b><span>rows</span></div>${cards.join('')}</section>\n`;
}

function legendHtml(counts: Map<BulkOutcome, number>): string {
  return `<p class="legend">${BULK_OUTCOMES.filter((outcome) => (counts.get(outcome) ?? 0) > 0)
    .map((outcome) => `<span class="o-${outcome}"><i></i>${outcome}</span>`)
    .join('')}</p>`;
}

function controlsHtml(counts: Map<BulkOutcome, number>, attention: number, rows: number): string {
  const options = BULK_OUTCOMES.filter((outcome) => (counts.get(outcome) ?? 0) > 0)
    .map((outcome) => `<option value="${outcome}">${outcome} (${counts.get(outcome)})</option>`)
    .join('');
  return (
    `<div class="controls"><label>Outcome <select id="filter"><option value="">all outcomes</option><option value="attention">needs attention (${attention})</option>${options}</select></label>` +
    `<label>User id <input id="search" type="search" placeholder="search by user id" autocomplete="off"></label>` +
    `<output id="shown">${attention} need attention · ${rows} rows shown</output></div>\n`
  );
}

function badge(outcome: BulkOutcome): string {
  return `<span class="b o-${outcome}">${outcome}</span>`;
}

function allRowHtml(row: ReportRow): string {
  const attention = needsAttention(row) ? ' data-a' : '';
  return `<tr data-o="${row.outcome}" data-t="all"${attention}><td class="n">${row.line}</td><td class="u">${escapeHtml(row.userId ?? '')}</td><td>${badge(row.outcome)}</td><td>${escapeHtml(row.code ?? '')}</td><td class="id">${escapeHtml(row.jobId ?? '')}</td><td class="id">${escapeHtml(row.smileJobId ?? '')}</td></tr>\n`;
}

function attentionRowHtml(row: ReportRow, thumbnails: Map<number, string>, withThumbnails: boolean): string {
  const why = [
    row.reason ? `<p>${escapeHtml(row.reason)}</p>` : '',
    row.explain
      ? `<p class="ex"><b>${escapeHtml(row.explain.title)}</b>: ${escapeHtml(row.explain.meaning)}</p><p class="next">Next: ${escapeHtml(row.explain.hint)}</p>`
      : '',
    row.warnings.length > 0 ? `<p class="ex">Warnings: ${escapeHtml(row.warnings.join(', '))}</p>` : '',
  ].join('');
  const fix = [
    row.fix.command ? `<code>${escapeHtml(row.fix.command)}</code>` : '',
    row.fix.row
      ? `<small>The row, as in the --rejects file (fix it, then run it as a new input):</small><pre>${escapeHtml(row.fix.row.replace(/\r?\n$/, ''))}</pre>`
      : '',
  ].join('');
  const code = row.code
    ? `${escapeHtml(row.code)}${row.resultText ? `<br><small>${escapeHtml(row.resultText)}</small>` : ''}`
    : '';
  const uri = thumbnails.get(row.line);
  const thumbnail = withThumbnails
    ? `<td class="th">${uri ? `<img src="${uri}" alt="selfie of line ${row.line}" width="${THUMBNAIL_SIZE}" loading="lazy">` : '<span class="none">no thumbnail</span>'}</td>`
    : '';
  return `<tr data-o="${row.outcome}" data-t="attention" data-a><td class="n">${row.line}</td><td class="u">${escapeHtml(row.userId ?? '')}</td><td>${badge(row.outcome)}</td><td>${code}</td><td class="why">${why}</td><td class="fix">${fix}</td>${thumbnail}</tr>\n`;
}
