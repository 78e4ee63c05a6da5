/**
 * File-system failures in the tool's own words ("no space left on the device (ENOSPC)"), never
 * Node's raw text ("ENOSPC: no space left on device, write"), which also repeats the path.
 */
const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file grew too large for the file system',
  EIO: 'the device reported an I/O error',
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ELOOP: 'the path has a loop of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many files are open',
  ENFILE: 'too many files are open on the system',
  EBADF: 'the file was closed under it',
  ESHORTWRITE: 'the device took only part of the data and then nothing more',
};

/** "no space left on the device (ENOSPC)" for an fs error; a short, own-words reason for anything else. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return `${REASONS[code] ?? 'the operating system refused it'} (${code})`;
  return 'an unexpected file-system failure';
}

/** The error of a write that made no progress (0 bytes written, no errno): never loop on it. */
export function shortWriteError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('short write');
  error.code = 'ESHORTWRITE';
  return error;
}
