import { isSmileCliError } from '../errors.js';
import { scrubSecrets } from '../smile/redact.js';

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  /** Colour on stderr/stdout (TTY and no NO_COLOR). */
  color: boolean;
  /** Secrets to scrub from anything written (the API key), a last line of defence. */
  secrets?: () => readonly (string | undefined)[];
}

/**
 * The only place that writes to stdout/stderr. stdout carries results (one JSON document with
 * --json); everything for humans goes to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  readonly streams: OutputStreams;
  #secrets: () => readonly (string | undefined)[];
  #wroteResult = false;

  constructor(streams: OutputStreams, options: OutputOptions) {
    this.streams = streams;
    this.json = options.json;
    this.quiet = options.quiet;
    this.color = options.color;
    this.#secrets = options.secrets ?? (() => []);
  }

  #clean(text: string): string {
    return scrubSecrets(text, this.#secrets());
  }

  /** The command's result: the JSON document with --json, else the human rendering (stdout). */
  result(document: unknown, human: () => string): void {
    if (this.json) this.writeJson(document);
    else {
      const text = human();
      if (text !== '') this.streams.stdout.write(this.#clean(text.endsWith('\n') ? text : `${text}\n`));
    }
    this.#wroteResult = true;
  }

  writeJson(document: unknown): void {
    this.streams.stdout.write(this.#clean(`${JSON.stringify(document, null, 2)}\n`));
    this.#wroteResult = true;
  }

  get wroteResult(): boolean {
    return this.#wroteResult;
  }

  /** A progress or status line for humans (stderr); silenced by --quiet. */
  info(line: string): void {
    if (!this.quiet) this.streams.stderr.write(this.#clean(`${line}\n`));
  }

  /** A warning (stderr); shown even with --quiet. */
  warn(line: string): void {
    this.streams.stderr.write(this.#clean(`${this.paint('yellow', '!')} ${line}\n`));
  }

  /** Raw stderr text (banners, traces), scrubbed. */
  stderr(text: string): void {
    this.streams.stderr.write(this.#clean(text));
  }

  /** The error boundary's rendering: the JSON error document with --json, else message + hint on stderr. */
  error(error: unknown, options: { debug: boolean }): void {
    const known = isSmileCliError(error);
    const message = error instanceof Error ? error.message : String(error);
    const code = known ? error.code : 'internal';
    const hint = known ? error.hint : 'This is a bug in smile. Run again with --debug and report the output (the API key is redacted).';
    if (this.json && !this.#wroteResult) {
      const details = known && error.details ? { details: error.details } : {};
      this.writeJson({ ok: false, error: { code, message, hint: hint ?? null, ...details } });
    } else {
      this.streams.stderr.write(this.#clean(`${this.paint('red', '✗')} ${message}\n${hint ? `  ${hint}\n` : ''}`));
    }
    if (options.debug && !known && error instanceof Error && error.stack) this.streams.stderr.write(this.#clean(`${error.stack}\n`));
  }

  paint(color: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold' | 'magenta', text: string): string {
    if (!this.color) return text;
    const codes = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], magenta: [35, 39], dim: [2, 22], bold: [1, 22] } as const;
    const [open, close] = codes[color];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }
}
