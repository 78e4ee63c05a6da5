import { appendFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DIR_MODE, FILE_MODE } from '../config/paths.js';

/**
 * The local history of registrations made from this machine (`smile jobs`, `smile status --last`):
 * enough to find a lost job id again, and nothing more. Each registration appends a line when its
 * job id is sent (so a Ctrl-C or a crash mid-wait still leaves it findable) and one when it ends:
 *
 *   {"v":1,"at":"2026-…Z","user_id":"u-1","job_id":"job-…","environment":"sandbox","host":"testapi.smileidentity.com","profile":"dev","outcome":"sent"}
 *   {"v":1,"at":"…","user_id":"u-1","job_id":"job-…","smile_job_id":"0000000042",…,"outcome":"approved"}
 *
 * Never images, API keys, partner params or callback URLs: ids, where, when and how it ended.
 *
 * Bounded: lines are appended to `history.jsonl` (one write each, far below PIPE_BUF, so lines of
 * processes running at once never interleave); once it holds MAX_LINES_PER_FILE lines it is renamed
 * to `history.1.jsonl` (replacing the older generation) and a new file starts. A rename loses no
 * line of a process appending at that moment (it appends to the renamed file, which is still
 * read), and two processes rotating at once only rotate twice. So at least the last
 * MAX_REGISTRATIONS registrations are kept and at most twice that, about 0.5 MB: read in
 * milliseconds by `smile jobs`, and enough for months of one-at-a-time use.
 *
 * Bulk rows are not recorded: their journal and report already hold every row's job id, and a
 * 100,000-row run would push every single registration out.
 */
export const HISTORY_FILE_NAME = 'history.jsonl';
export const HISTORY_OLD_FILE_NAME = 'history.1.jsonl';
/** Registrations kept at least (each writes at most two lines). */
export const MAX_REGISTRATIONS = 1000;
export const MAX_LINES_PER_FILE = 2 * MAX_REGISTRATIONS;
/**
 * No line is shorter (`{"v":1,"at":"…Z","user_id":"u","job_id":"j","environment":"sandbox","host":"","outcome":"sent"}`):
 * below MAX_LINES_PER_FILE of them the file cannot be full, and its lines are not counted. Past it
 * each record reads the file (at most about 0.5 MB) once to count them.
 */
export const MIN_LINE_BYTES = 100;

/** One registration as the history keeps it (snake_case: `smile jobs --json` prints these). */
export interface HistoryEntry {
  at: string;
  user_id: string;
  job_id: string;
  smile_job_id?: string;
  environment: string;
  /** The API's host (no path, no credentials). */
  host: string;
  profile?: string;
  /** `sent` until the registration ends (then its outcome, `interrupted`, or `error`). */
  outcome: string;
  /** With outcome `error`: the error's code (`2215`, `deadline` …). */
  error_code?: string;
}

const FIELDS = ['at', 'user_id', 'job_id', 'environment', 'host', 'outcome'] as const;
const OPTIONAL = ['smile_job_id', 'profile', 'error_code'] as const;

/** A line read back, or undefined when it is not one of ours (torn, edited, another version). */
function parseLine(line: string): HistoryEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || (value as { v?: unknown }).v !== 1) return undefined;
  const record = value as Record<string, unknown>;
  const entry: Record<string, string> = {};
  for (const key of FIELDS) {
    if (typeof record[key] !== 'string') return undefined;
    entry[key] = record[key];
  }
  for (const key of OPTIONAL) if (typeof record[key] === 'string') entry[key] = record[key];
  return entry as unknown as HistoryEntry;
}

/** The history file of a state directory (`stateDir` of src/config/paths.ts). */
export class RegistrationHistory {
  readonly file: string;
  readonly #old: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.file = join(dir, HISTORY_FILE_NAME);
    this.#old = join(dir, HISTORY_OLD_FILE_NAME);
  }

  /**
   * Appends one line; rotates when the file is full. Never throws: a history that cannot be
   * written (read-only home, full disk) must not fail the registration it describes.
   */
  async record(entry: HistoryEntry): Promise<boolean> {
    try {
      const line = `${JSON.stringify({ v: 1, ...entry })}\n`;
      await mkdir(this.#dir, { recursive: true, mode: DIR_MODE });
      await appendFile(this.file, line, { mode: FILE_MODE });
      await this.#rotateWhenFull();
      return true;
    } catch {
      return false;
    }
  }

  async #rotateWhenFull(): Promise<void> {
    if ((await stat(this.file)).size < MAX_LINES_PER_FILE * MIN_LINE_BYTES) return;
    const text = await readFile(this.file, 'utf8');
    let lines = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
    if (lines >= MAX_LINES_PER_FILE) await rename(this.file, this.#old);
  }

  /**
   * Every registration kept, newest first (by when it was sent): the lines of one job (same host,
   * user and job id) merged, the later fields winning. A missing or unreadable file is an empty history.
   */
  async list(): Promise<HistoryEntry[]> {
    const byJob = new Map<string, HistoryEntry>();
    for (const file of [this.#old, this.file]) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const entry = line.trim() === '' ? undefined : parseLine(line);
        if (!entry) continue;
        const key = `${entry.host}\n${entry.user_id}\n${entry.job_id}`;
        const before = byJob.get(key);
        // `at` stays the time the job was sent; the later line brings how it ended.
        const merged: HistoryEntry = before ? { ...before, ...entry, at: before.at } : entry;
        // An error code belongs to the line that says `error`, not to a later outcome.
        if (entry.error_code === undefined) delete merged.error_code;
        byJob.set(key, merged);
      }
    }
    // Newest sent first (ISO times in UTC sort as text; the sort is stable for equal times).
    return [...byJob.values()].reverse().sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  }
}
