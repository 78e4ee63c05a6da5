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

/**
 * Why a file could not be opened, read or written, in plain words (never Node's own text, which
 * quotes paths raw and names system calls): ENOENT → "no such file", ELOOP → "too many symbolic
 * links …" (no parentheses: callers often put the reason in some). The caller names the path.
 */
export function fileErrorReason(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ELOOP':
      return 'too many symbolic links, probably a link that points back to itself';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'ERR_INVALID_ARG_VALUE':
    case 'ERR_INVALID_ARG_TYPE':
      return /null bytes/i.test(message) ? 'the path contains a NUL byte' : 'the path is not valid';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many files are open at once; raise the limit with `ulimit -n`';
    case 'EIO':
      return 'an input/output error; is the disk or network drive failing?';
    case 'ENXIO':
    case 'ENODEV':
      return 'there is no device behind it';
    case 'EAGAIN':
    case 'EWOULDBLOCK':
      return 'it is not ready to be read, like a pipe or a device';
    case 'EBUSY':
      return 'it is busy';
    case 'ETIMEDOUT':
      return 'the file system timed out';
    case 'ESTALE':
      return 'a stale network file handle; mount the drive again';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EFBIG':
      return 'the file is too large';
    case 'EEXIST':
      return 'it already exists';
    default:
      return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? `system error ${code}` : 'an unexpected error';
  }
}
