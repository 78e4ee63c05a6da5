import { TERMINAL_UNSAFE, escapeControl, isSmileCliError } from '../errors.js';
import { scrubSecrets } from '../smile/redact.js';
import { stripColour } from './color.js';
import type { ColorDecision } from './color.js';
import type { JsonFilter } from './filter.js';

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  /** Colour on each stream (output/color.ts decides); a boolean means both. */
  color: boolean | ColorDecision;
  /** Secrets to scrub from anything written (the API key), a last line of defence. */
  secrets?: () => readonly (string | undefined)[];
  /** --jq / --query: applied to every JSON document on stdout but error documents (output/filter.ts). */
  filter?: JsonFilter | undefined;
}

/** An SGR sequence (colour, bold, reset): the only escape smile writes itself. */
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]{0,32}m/y;

/**
 * Text made safe for a terminal: C0 controls (but tab and line feed), DEL, C1 controls and bidi
 * overrides become visible escapes (`\x1b]0;…\x07`), so that input quoted in a message cannot set
 * the window title, move the cursor or reorder the line. With `keepColour`, SGR colour sequences
 * stay (they only colour text); every other escape sequence is shown.
 */
export function neutraliseControls(text: string, options: { keepColour?: boolean } = {}): string {
  TERMINAL_UNSAFE.lastIndex = 0;
  if (!TERMINAL_UNSAFE.test(text)) return text;
  TERMINAL_UNSAFE.lastIndex = 0;
  return text.replace(TERMINAL_UNSAFE, (char, offset: number) => {
    if (options.keepColour && char === '\u001b') {
      SGR.lastIndex = offset;
      if (SGR.test(text)) return char;
    }
    return escapeControl(char);
  });
}

/** Characters JSON.stringify leaves raw that a terminal may act on (C0 is escaped already). */
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify, with DEL, C1 and bidi characters written as `\u` escapes too: the document
 * parses to the same value, and `cat` of it cannot drive a terminal.
 */
export function jsonText(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(
    JSON_UNSAFE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The only place that writes to stdout/stderr. stdout carries results (one JSON document with
 * --json); everything for humans goes to stderr.
 */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Colour on stdout (where results go): renderers of a result ask this. */
  readonly color: boolean;
  /** Colour per stream: text for a stream without colour has its colour sequences removed. */
  readonly colors: ColorDecision;
  readonly streams: OutputStreams;
  #secrets: () => readonly (string | undefined)[];
  #wroteResult = false;
  #filter: JsonFilter | undefined;
  /** With a filter, stdout writes are chained (the filter is asynchronous) to keep their order. */
  #pending: Promise<void> = Promise.resolve();
  #filterError: unknown;

  constructor(streams: OutputStreams, options: OutputOptions) {
    this.#filter = options.filter;
    this.streams = streams;
    this.json = options.json;
    this.quiet = options.quiet;
    this.colors = typeof options.color === 'boolean' ? { stdout: options.color, stderr: options.color } : options.color;
    this.color = this.colors.stdout;
    this.#secrets = options.secrets ?? (() => []);
  }

  /**
   * Secrets scrubbed, colour removed when the stream gets none (whoever painted it: us, ink or
   * chalk), then every character a terminal would act on shown as an escape (colours that stay stay).
   */
  #clean(text: string, stream: keyof ColorDecision): string {
    const scrubbed = scrubSecrets(text, this.#secrets());
    return neutraliseControls(this.colors[stream] ? scrubbed : stripColour(scrubbed), { keepColour: true });
  }

  /** The command's result: the JSON document with --json, else the human rendering (stdout). */
  result(document: unknown, human: () => string): void {
    if (this.json) this.writeJson(document);
    else {
      const text = human();
      if (text !== '') this.streams.stdout.write(this.#clean(text.endsWith('\n') ? text : `${text}\n`, 'stdout'));
    }
    this.#wroteResult = true;
  }

  writeJson(document: unknown): void {
    this.#writeJsonText(document, false);
    this.#wroteResult = true;
  }

  /** One JSON line of a stream of them (callback listen, the emulator's start line); filtered like a document. */
  jsonLine(value: unknown): void {
    this.#writeJsonText(value, true);
  }

  /** `unfiltered`: the error boundary's document, printed whole even with --jq/--query (output/filter.ts). */
  #writeJsonText(document: unknown, compact: boolean, unfiltered = false): void {
    const text = `${jsonText(document, compact ? undefined : 2)}\n`;
    const filter = this.#filter;
    if (!filter) {
      this.streams.stdout.write(scrubSecrets(text, this.#secrets()));
      return;
    }
    this.#pending = this.#pending.then(async () => {
      if (unfiltered) {
        this.streams.stdout.write(scrubSecrets(text, this.#secrets()));
        return;
      }
      try {
        const filtered = await filter.apply(text, compact);
        // Raw strings (jq -r) are written as they are: escape what a terminal would act on.
        this.streams.stdout.write(neutraliseControls(scrubSecrets(filtered, this.#secrets())));
      } catch (error) {
        this.#filterError ??= error;
      }
    });
  }

  /** Waits for filtered output to be written; throws the filter's failure (a FilterError: exit 2). */
  async flush(): Promise<void> {
    await this.#pending;
    const failed = this.#filterError;
    this.#filterError = undefined;
    if (failed !== undefined) throw failed;
  }

  /** A line of human output on stdout outside result() (callback listen), cleaned like a result. */
  stdoutLine(line: string): void {
    this.streams.stdout.write(this.#clean(`${line}\n`, 'stdout'));
  }

  get wroteResult(): boolean {
    return this.#wroteResult;
  }

  /** A progress or status line for humans (stderr); silenced by --quiet. */
  info(line: string): void {
    if (!this.quiet) this.streams.stderr.write(this.#clean(`${line}\n`, 'stderr'));
  }

  /** A warning (stderr); shown even with --quiet. */
  warn(line: string): void {
    this.streams.stderr.write(this.#clean(`${this.paint('yellow', '!')} ${line}\n`, 'stderr'));
  }

  /** Raw stderr text (banners, traces), scrubbed. */
  stderr(text: string): void {
    this.streams.stderr.write(this.#clean(text, 'stderr'));
  }

  /** The error boundary's rendering: the JSON error document with --json, else message + hint on stderr. */
  error(error: unknown, options: { debug: boolean }): void {
    const known = isSmileCliError(error);
    const message = error instanceof Error ? error.message : String(error);
    const code = known ? error.code : 'internal';
    const hint = known
      ? error.hint
      : 'This is a bug in smile. Run again with --debug and report the output (the API key is redacted).';
    if (this.json && !this.#wroteResult) {
      const details = known && error.details ? { details: error.details } : {};
      this.#writeJsonText({ ok: false, error: { code, message, hint: hint ?? null, ...details } }, false, true);
      this.#wroteResult = true;
    } else {
      this.streams.stderr.write(
        this.#clean(`${this.paint('red', '✗')} ${message}\n${hint ? `  ${hint}\n` : ''}`, 'stderr'),
      );
    }
    if (options.debug && !known && error instanceof Error && error.stack)
      this.streams.stderr.write(this.#clean(`${error.stack}\n`, 'stderr'));
  }

  /** Colour for a stream that gets it (text written to one that does not loses it again in #clean). */
  paint(color: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold' | 'magenta', text: string): string {
    if (!this.colors.stdout && !this.colors.stderr) return text;
    const codes = {
      red: [31, 39],
      green: [32, 39],
      yellow: [33, 39],
      cyan: [36, 39],
      magenta: [35, 39],
      dim: [2, 22],
      bold: [1, 22],
    } as const;
    const [open, close] = codes[color];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }
}
