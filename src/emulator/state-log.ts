/**
 * The emulator's state file on disk: an append-only JSONL log of changes, compacted into a snapshot
 * (temp file + fsync + rename), and selfie images as content-addressed files in `<state>.selfies/`.
 * Every append is written whole and fdatasync'ed before it counts; a failed one is cut back off.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, InputError, SmileCliError, fileErrorReason } from '../errors.js';
import { syncDirectory, writeFailureReason, writeFullySync } from '../fs/durable.js';

export const STATE_FORMAT = 'smile-emulator-state';
export const STATE_VERSION = 2;

/** First line of the log. The secret signs upload URLs, so that they survive a restart. */
export interface StateHeader {
  t: 'header';
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  secret: string;
  createdAt: string;
}

/** Writes are cut into pieces of about this size, so no single string or buffer has to hold a whole snapshot. */
const WRITE_CHUNK_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** The error the emulator stops with when its state file cannot be written (start, stop). */
export function stateWriteError(file: string, error: unknown): SmileCliError {
  return new SmileCliError(
    `The emulator could not write its state file ${file}: ${writeFailureReason(error)}.`,
    ExitCode.api,
    'emulator_state_write',
    {
      hint: 'Free disk space or fix the permissions, or pass another --state-file.',
      cause: error,
    },
  );
}

/** Collects lines into chunks and writes each chunk whole. */
class ChunkWriter {
  private parts: string[] = [];
  private size = 0;
  written = 0;

  constructor(private readonly fd: number) {}

  line(value: unknown): void {
    const text = `${JSON.stringify(value)}\n`;
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= WRITE_CHUNK_BYTES) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const bytes = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    writeFullySync(this.fd, bytes);
    this.written += bytes.length;
  }
}

export type LineSink = (value: unknown) => void;

/** The open log: appends, compaction, and the selfie files beside it. */
export class StateLog {
  private fd: number | null = null;
  /** Bytes of the log known to be good (what a failed append is cut back to). */
  private size = 0;
  /** Size right after the last compaction: the live state's size on disk. */
  private liveSize = 0;
  private nextCompaction = 0;
  compactions = 0;
  readonly blobDir: string;

  /** Compact when the log is past `factor` × the live state and at least `minBytes`. */
  constructor(
    readonly file: string,
    private readonly policy: { factor: number; minBytes: number } = { factor: 4, minBytes: 256 * 1024 },
  ) {
    this.blobDir = `${file}.selfies`;
  }

  get bytes(): number {
    return this.size;
  }

  /** Appends the lines `write` produces, durable (fdatasync) when this returns; on failure the file is cut back and the error thrown. */
  append(write: (line: LineSink) => void): void {
    if (this.fd === null) throw new Error('state log is not open');
    const writer = new ChunkWriter(this.fd);
    try {
      write((value) => writer.line(value));
      writer.flush();
      if (writer.written > 0) fdatasyncSync(this.fd);
    } catch (error) {
      // Cut off whatever part of the batch reached the file, so the next append starts on a clean line.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // The torn tail, if any, is dropped at the next load (it was never acknowledged).
      }
      throw error;
    }
    this.size += writer.written;
  }

  /** True once the log has outgrown its live state by the policy's factor. */
  wantsCompaction(): boolean {
    return this.size >= this.nextCompaction;
  }

  /**
   * Writes a fresh log holding only `snapshot`'s lines after the header (temp file, fsync, rename),
   * then appends to it from then on. On failure the old log stays in use and the error is thrown.
   */
  compact(header: StateHeader, snapshot: (line: LineSink) => void): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    let fd: number | undefined;
    let written: number;
    try {
      fd = openSync(tmp, 'wx', 0o600);
      const writer = new ChunkWriter(fd);
      writer.line(header);
      snapshot((value) => writer.line(value));
      writer.flush();
      fsyncSync(fd);
      written = writer.written;
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, this.file);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      this.nextCompaction = Math.max(this.nextCompaction, this.size * 2);
      throw error;
    }
    syncDirectory(dir);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = written;
    this.liveSize = written;
    this.nextCompaction = Math.max(this.policy.minBytes, this.liveSize * this.policy.factor);
    this.compactions += 1;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  blobPath(sha256: string): string {
    return join(this.blobDir, `${sha256}.jpg`);
  }

  /** Stores image bytes under their SHA-256 (once; durable before this returns). */
  writeBlob(sha256: string, bytes: Uint8Array): void {
    const path = this.blobPath(sha256);
    try {
      if (statSync(path).size === bytes.length) return;
    } catch {
      // not there yet
    }
    mkdirSync(this.blobDir, { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'wx', 0o600);
      writeFullySync(fd, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, path);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      throw error;
    }
    syncDirectory(this.blobDir);
  }

  /** The stored bytes of an image, or undefined when the file is gone. */
  readBlob(sha256: string): Uint8Array | undefined {
    try {
      return readFileSync(this.blobPath(sha256));
    } catch {
      return undefined;
    }
  }

  /** Removes compaction temp files a crash left beside the log (`<file>.<pid>.<hex>.tmp`). */
  removeStaleTemps(): void {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(prefix) || !/^\d+\.[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length))) continue;
      rmSync(join(dir, name), { force: true });
    }
  }

  /** Removes image files no record refers to (left by a save that failed after the file was written) and temp files. */
  removeUnreferencedBlobs(referenced: ReadonlySet<string>): void {
    let names: string[];
    try {
      names = readdirSync(this.blobDir);
    } catch {
      return;
    }
    for (const name of names) {
      const sha = /^([0-9a-f]{64})\.jpg$/.exec(name)?.[1];
      if (sha !== undefined && referenced.has(sha)) continue;
      try {
        unlinkSync(join(this.blobDir, name));
      } catch {
        // best effort
      }
    }
  }
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What a state file on disk turned out to be. */
export type StateFileKind = 'missing' | 'empty' | 'log' | 'whole-file' | 'unknown';

/** Tells the formats apart by their first bytes, without reading the whole file. */
export function stateFileKind(file: string): StateFileKind {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new InputError(`Cannot read the emulator state file ${file}: ${fileErrorReason(error)}.`, { cause: error });
  }
  try {
    if (!fstatSync(fd).isFile())
      throw new InputError(`The emulator state file ${file} is not a regular file.`, {
        hint: 'Pass a file path to --state-file.',
      });
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('utf8').trimStart();
    if (text === '') return 'empty';
    if (text.startsWith('{"t":"header"')) return 'log';
    // The version-1 writer put `version` first: {"version":1,"secret":…}
    if (/^\{\s*"version"\s*:\s*1\b/.test(text)) return 'whole-file';
    return 'unknown';
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the log line by line (never the whole file as one string). Calls `onLine` with each
 * complete line and its number; returns the text of an unterminated last line, if any.
 */
export function readLogLines(file: string, onLine: (line: string, lineNo: number) => void): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(READ_CHUNK_BYTES);
    let carry: Buffer[] = [];
    let lineNo = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1 || nl >= n) break;
        const piece = chunk.subarray(start, nl);
        const line = carry.length > 0 ? Buffer.concat([...carry, piece]) : piece;
        carry = [];
        lineNo += 1;
        onLine(line.toString('utf8'), lineNo);
        start = nl + 1;
      }
      if (start < n) carry.push(Buffer.from(chunk.subarray(start, n)));
    }
    const rest = Buffer.concat(carry).toString('utf8');
    return rest.trim() === '' ? undefined : rest;
  } finally {
    closeSync(fd);
  }
}
