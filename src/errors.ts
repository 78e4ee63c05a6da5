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
