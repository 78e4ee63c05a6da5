import { UsageError } from '../errors.js';

/**
 * `--jq EXPR` (gh's) and `--query EXPR` (the AWS CLI's JMESPath): a filter for the JSON document on
 * stdout, so that a script needs no jq installed (issue 15 item 2).
 *
 * - `--jq` runs real jq (jq-wasm: jq compiled to WebAssembly, shipped inside the npm package; no
 *   native build, no download). Like gh, strings come out raw (`jq -r`), anything else as indented JSON.
 * - `--query` runs JMESPath (@jmespath-community/jmespath, TypeScript, no dependencies); the result is
 *   printed as indented JSON, as `aws … --query` does with `--output json`.
 * - The expression is checked before the command runs: a bad one is a usage error (exit 2) and
 *   nothing is sent. One that fails on the document itself (`.foo[0]` on a string) is exit 2 after
 *   the command ran; the message says what the command's own exit code was.
 * - Error documents (`{"ok": false, "error": …}`, written when the command fails) are printed
 *   unfiltered: a filter written for the result would turn an error into `null` or nothing, and the
 *   script would not see why. Results are always filtered, `"ok": false` ones too (a rejected
 *   registration, a selfie that failed its checks, a bulk run with failures).
 */
export interface JsonFilter {
  readonly flag: '--jq' | '--query';
  readonly expression: string;
  /** Throws a UsageError when the expression does not compile. */
  check(): Promise<void>;
  /** The text to print for this document (ends with a newline unless empty); `compact` for JSON lines. */
  apply(documentText: string, compact?: boolean): Promise<string>;
}

/** A filter failing on the document (not on its syntax): exit 2 once the command is over. */
export class FilterError extends UsageError {
  constructor(
    readonly flag: string,
    readonly detail: string,
    commandExit?: number,
  ) {
    super(`${flag} failed on the result: ${detail}`, {
      code: 'filter_failed',
      hint: `${commandExit === undefined ? '' : `The command itself ran and finished with exit ${commandExit}. `}Print the whole document with --json to see its shape, then fix the ${flag} expression.`,
    });
  }

  /** The same failure, saying which exit code the command itself finished with. */
  afterExit(code: number): FilterError {
    return new FilterError(this.flag, this.detail, code);
  }
}

export function makeJsonFilter(options: {
  jq?: string | undefined;
  query?: string | undefined;
}): JsonFilter | undefined {
  if (options.jq !== undefined && options.query !== undefined)
    throw new UsageError('Give one of --jq or --query, not both.', { hint: 'Both filter the same --json document.' });
  if (options.jq !== undefined) return jqFilter(options.jq);
  if (options.query !== undefined) return jmespathFilter(options.query);
  return undefined;
}

/** jq's message without the noise of the wrapper ("Failed to execute raw query: jq: error …"). */
function jqMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/^Failed to execute raw query:\s*/, '')
    .replace(/\(Unix shell quoting issues\?\)\s*/g, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

function jqFilter(expression: string): JsonFilter {
  const load = async () => (await import('jq-wasm')).raw;
  return {
    flag: '--jq',
    expression,
    async check() {
      if (expression.trim() === '') throw new UsageError('--jq needs an expression, e.g. --jq .outcome.');
      const raw = await load();
      // Compiled, never run: a syntax error or an unknown function is caught before the command runs.
      try {
        await raw('null', `if false then (${expression}\n) else empty end`, []);
      } catch (wrapped) {
        // jq's own words name the expression as typed: compile it alone (on null) for the message.
        const alone = await raw('null', expression, []).then(
          () => undefined,
          (error: unknown) => jqMessage(error),
        );
        const message = alone !== undefined && /compile error/.test(alone) ? alone : jqMessage(wrapped);
        throw new UsageError(`--jq expression does not compile: ${message}`, {
          code: 'bad_filter',
          hint: 'jq syntax, as in `gh --jq`: e.g. --jq .outcome, or --jq \'.rows[] | select(.outcome != "approved") | .user_id\'.',
        });
      }
    },
    async apply(documentText, compact = false) {
      const raw = await load();
      let text: string;
      try {
        text = await raw(documentText, expression, compact ? ['-r', '-c'] : ['-r']);
      } catch (error) {
        throw new FilterError('--jq', jqMessage(error));
      }
      return text === '' || text.endsWith('\n') ? text : `${text}\n`;
    },
  };
}

function jmespathFilter(expression: string): JsonFilter {
  const load = () => import('@jmespath-community/jmespath');
  return {
    flag: '--query',
    expression,
    async check() {
      if (expression.trim() === '') throw new UsageError('--query needs an expression, e.g. --query outcome.');
      const { compile } = await load();
      try {
        compile(expression);
      } catch (error) {
        throw new UsageError(
          `--query expression does not compile: ${error instanceof Error ? error.message : String(error)}`,
          {
            code: 'bad_filter',
            hint: 'JMESPath syntax, as in `aws --query`: e.g. --query outcome, or --query "rows[?outcome!=\'approved\'].user_id".',
          },
        );
      }
    },
    async apply(documentText, compact = false) {
      const { search } = await load();
      try {
        const found = search(JSON.parse(documentText) as Parameters<typeof search>[0], expression);
        return `${JSON.stringify(found, null, compact ? undefined : 2)}\n`;
      } catch (error) {
        throw new FilterError('--query', error instanceof Error ? error.message : String(error));
      }
    },
  };
}
