/** Exit codes of product.md; the one table every failure maps into. */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  auth: 3,
  input: 4,
  api: 5,
  refused: 6,
  expectation: 7,
  notFinal: 8,
  /** The operator answered no to a confirmation (or left the form): nothing was sent. */
  declined: 9,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface SmileCliErrorOptions {
  hint?: string;
  /** A stable, machine-readable code for `--json` (`usage`, `2209`, `selfie_unreadable` …). */
  code?: string;
  cause?: unknown;
  /** Extra fields carried into the JSON error document (never secrets). */
  details?: Record<string, unknown>;
}

/** A failure the user can understand and usually fix; carries its exit code and a next step. */
export class SmileCliError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, exitCode: ExitCodeValue, defaultCode: string, options: SmileCliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.code = options.code ?? defaultCode;
    this.details = options.details;
  }
}

export class UsageError extends SmileCliError {
  constructor(message: string, options?: SmileCliErrorOptions) {
    super(message, ExitCode.usage, 'usage', options);
  }
}
export class AuthError extends SmileCliError {
  constructor(message: string, options?: SmileCliErrorOptions) {
    super(message, ExitCode.auth, 'auth', options);
  }
}
export class InputError extends SmileCliError {
  constructor(message: string, options?: SmileCliErrorOptions) {
    super(message, ExitCode.input, 'invalid_input', options);
  }
}
/** Network or server failure after retries: trying again later can help. */
export class ApiError extends SmileCliError {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: SmileCliErrorOptions & { status?: number; retryAfterMs?: number }) {
    super(message, ExitCode.api, 'api', options);
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}
/** The API refused the request for good (2209, 2215 …) or the job finished not approved. */
export class RefusedError extends SmileCliError {
  constructor(message: string, options?: SmileCliErrorOptions) {
    super(message, ExitCode.refused, 'refused', options);
  }
}
export class ExpectationError extends SmileCliError {
  constructor(message: string, options?: SmileCliErrorOptions) {
    super(message, ExitCode.expectation, 'expectation', options);
  }
}
export class NotFinalError extends SmileCliError {
  constructor(message: string, options?: SmileCliErrorOptions) {
    super(message, ExitCode.notFinal, 'not_final', options);
  }
}
/**
 * The operator said no (a production confirmation, the guided form): a choice, not an interruption,
 * so not 130 (gh exits 2 here, which smile keeps for usage errors). Nothing was sent.
 */
export class DeclinedError extends SmileCliError {
  constructor(message = 'Cancelled: nothing was sent.', options?: SmileCliErrorOptions) {
    super(message, ExitCode.declined, 'declined', options);
  }
}
export class CancelledError extends SmileCliError {
  constructor(message = 'Interrupted.', options?: SmileCliErrorOptions) {
    super(message, ExitCode.interrupted, 'interrupted', options);
  }
}

export function isSmileCliError(error: unknown): error is SmileCliError {
  return error instanceof SmileCliError;
}

/** True for an AbortSignal's abort reason or an AbortError thrown by fetch/timers. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error instanceof CancelledError);
}

/**
 * Characters a terminal may act on instead of showing: C0 controls except tab and line feed
 * (which are layout), DEL, C1 controls, and the bidi embeddings, overrides and isolates that
 * reorder text on screen ("Trojan Source").
 */
// eslint-disable-next-line no-control-regex
export const TERMINAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_INLINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The visible stand-in of one unsafe character: `\n`, `\x1b`, `\u202e` … */
export function escapeControl(char: string): string {
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A value from input (a path, a cell) made safe to quote inside one line of a message: control
 * characters, line breaks and bidi overrides shown as escapes, and a very long value shortened in
 * the middle so that the message stays readable.
 */
export function printable(text: string, max = 200): string {
  const shown = text.replace(UNSAFE_INLINE, escapeControl);
  if (shown.length <= max) return shown;
  const head = Math.ceil((max - 1) * 0.6);
  return `${shown.slice(0, head)}…${shown.slice(shown.length - (max - 1 - head))}`;
}

/** What a file-system failure means for a caller that acts on it (a selfie check names the fix). */
export type FileErrorKind = 'missing' | 'directory' | 'permission' | 'other';

/**
 * The one table of file-error words: for each code, what to say (plain words, never Node's own
 * text, which quotes paths raw and names system calls; no parentheses: callers often put the reason
 * in some) and, where it matters, its kind.
 */
const FILE_ERRORS: Readonly<Record<string, { reason: string; kind?: FileErrorKind }>> = {
  ENOENT: { reason: 'no such file', kind: 'missing' },
  ENOTDIR: { reason: 'a part of the path is not a directory', kind: 'missing' },
  EACCES: { reason: 'permission denied', kind: 'permission' },
  EPERM: { reason: 'permission denied', kind: 'permission' },
  EISDIR: { reason: 'it is a directory, not a file', kind: 'directory' },
  ELOOP: { reason: 'too many symbolic links, probably a link that points back to itself' },
  ENAMETOOLONG: { reason: 'the path is too long' },
  EMFILE: { reason: 'too many files are open at once; raise the limit with `ulimit -n`' },
  ENFILE: { reason: 'too many files are open at once; raise the limit with `ulimit -n`' },
  EIO: { reason: 'an input/output error; is the disk or network drive failing?' },
  ENXIO: { reason: 'there is no device behind it' },
  ENODEV: { reason: 'there is no device behind it' },
  EAGAIN: { reason: 'it is not ready to be read, like a pipe or a device' },
  EWOULDBLOCK: { reason: 'it is not ready to be read, like a pipe or a device' },
  EBUSY: { reason: 'it is busy' },
  ETIMEDOUT: { reason: 'the file system timed out' },
  ESTALE: { reason: 'a stale network file handle; mount the drive again' },
  ENOSPC: { reason: 'the disk is full' },
  EDQUOT: { reason: 'the disk quota is used up' },
  EROFS: { reason: 'the file system is read-only' },
  EFBIG: { reason: 'the file is too large' },
  EEXIST: { reason: 'it already exists' },
};

function fileErrorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function fileErrorEntry(code: unknown): { reason: string; kind?: FileErrorKind } | undefined {
  return typeof code === 'string' && Object.hasOwn(FILE_ERRORS, code) ? FILE_ERRORS[code] : undefined;
}

/**
 * Why a file could not be opened, read or written, in plain words from FILE_ERRORS: ENOENT → "no
 * such file", ELOOP → "too many symbolic links …". The caller names the path.
 */
export function fileErrorReason(error: unknown): string {
  const code = fileErrorCode(error);
  const known = fileErrorEntry(code);
  if (known !== undefined) return known.reason;
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') {
    const message = error instanceof Error ? error.message : '';
    return /null bytes/i.test(message) ? 'the path contains a NUL byte' : 'the path is not valid';
  }
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? `system error ${code}` : 'an unexpected error';
}

/** The kind of a file-system failure (from the same table): missing, a directory, no permission, or other. */
export function fileErrorKind(error: unknown): FileErrorKind {
  return fileErrorEntry(fileErrorCode(error))?.kind ?? 'other';
}
