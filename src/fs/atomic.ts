import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from './durable.js';

/**
 * Replaces `file` atomically: the data goes to a new temporary file beside it (created exclusively,
 * with `mode` set exactly when given, whatever the umask), is flushed, and is renamed over the
 * target; a reader or a crash sees the old file or the new one, never half of one. The temporary
 * file is removed when anything fails, and the error (Node's own) is thrown for the caller to word.
 */
export async function writeFileAtomically(
  file: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', options.mode ?? 0o666);
    await handle.writeFile(data);
    if (options.mode !== undefined) await handle.chmod(options.mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  // Makes the rename itself durable; best effort (some file systems refuse to fsync a directory).
  syncDirectory(dir);
}
