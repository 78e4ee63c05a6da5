/**
 * Durable writes, shared by everything that must not acknowledge what is not on disk (the bulk
 * journal, reports and lock, the callback store, the emulator's state log): every byte written
 * (a short count without an error is not the end), then flushed; and write failures in the tool's
 * own words ("the disk is full (ENOSPC)"), never Node's raw text, which repeats the path unescaped.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { fileErrorReason } from '../errors.js';

/** The code of a write that made no progress (no errno of the system's own). */
const SHORT_WRITE = 'ESHORTWRITE';

/**
 * Why a file could not be created or written: "the disk is full (ENOSPC)". The words are
 * fileErrorReason's (one table for the whole tool), but for the two a write reads differently:
 * a missing name means its directory is missing, and a write that stopped taking bytes.
 */
export function writeFailureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return 'an unexpected file-system failure';
  const reason =
    code === 'ENOENT'
      ? 'its directory does not exist'
      : code === SHORT_WRITE
        ? 'the device took only part of the data and then nothing more'
        : fileErrorReason(error);
  return `${reason} (${code})`;
}

/** The error of a write that made no progress (0 bytes written, no errno): never loop on it. */
export function shortWriteError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('short write');
  error.code = SHORT_WRITE;
  return error;
}

/** write(2) until every byte is written (at the fd's position; appends on an O_APPEND fd). */
export function writeFullySync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw shortWriteError();
    offset += written;
  }
}

/** The same for a FileHandle; the caller flushes (datasync) once the record is whole. */
export async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw shortWriteError();
    offset += bytesWritten;
  }
}

/** Make a new name or a rename in `dir` durable too; best effort where a directory cannot be fsync'ed. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported on this platform / file system
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
