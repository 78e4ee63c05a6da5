import type { Argument, Command, Option } from 'commander';
import type { RunContext } from '../context.js';
import { parseDurationText, parseNumber, parseWholeNumber } from '../parse.js';
import type { Duration } from '../parse.js';

/**
 * One typed definition per command: its flags and arguments as specs, its help, and `run`, which
 * receives the parsed, typed values (never commander's raw strings) and imports the work it does
 * when it runs. `cli.ts` turns the table of definitions into the commander program.
 *
 * A command file imports statically only this module, `parse.ts`, `errors.ts` and types, so that
 * building the program (for any command, or `--help`) stays cheap.
 */

type Commander = Pick<typeof import('commander'), 'Option' | 'Argument'>;

/** A flag of a command: how to declare it to commander, and how to read its value back, typed. */
export interface OptionSpec<T> {
  readonly kind: 'option';
  create(commander: Commander): Option;
  read(value: unknown): T;
}

/** A positional argument of a command. */
export interface ArgSpec<T> {
  readonly kind: 'arg';
  create(commander: Commander): Argument;
  read(value: unknown): T;
}

type Spec = OptionSpec<unknown> | ArgSpec<unknown>;
export type ValuesOf<S> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : S[K] extends ArgSpec<infer T> ? T : never;
};

/** What `run` is given besides the values: the program itself (for help and completion). */
export interface CommandMeta {
  program: Command;
}

export interface CommandDefinition<
  O extends Record<string, OptionSpec<unknown>> = Record<string, OptionSpec<unknown>>,
  A extends Record<string, ArgSpec<unknown>> = Record<string, ArgSpec<unknown>>,
> {
  readonly kind: 'command';
  name: string;
  summary: string;
  args?: A;
  options?: O;
  /** Example command lines (shown as `$ …`), then free text after them. */
  examples?: readonly string[];
  after?: string | (() => string);
  run(values: ValuesOf<O> & ValuesOf<A>, ctx: RunContext, meta: CommandMeta): Promise<number>;
}

export interface GroupDefinition {
  readonly kind: 'group';
  name: string;
  summary: string;
  commands: readonly AnyCommand[];
}

// The table holds commands of every option shape; `run` is only called with values read from its own specs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandDefinition<any, any> | GroupDefinition;

export function defineCommand<
  O extends Record<string, OptionSpec<unknown>> = Record<never, never>,
  A extends Record<string, ArgSpec<unknown>> = Record<never, never>,
>(definition: Omit<CommandDefinition<O, A>, 'kind'>): CommandDefinition<O, A> {
  return { kind: 'command', ...definition };
}

export function defineGroup(definition: Omit<GroupDefinition, 'kind'>): GroupDefinition {
  return { kind: 'group', ...definition };
}

/** Read every spec's value out of what commander parsed (options by attribute name, args by position). */
export function readValues<S extends Record<string, Spec>>(specs: S, raw: (key: string) => unknown): ValuesOf<S> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) values[key] = spec.read(raw(key));
  return values as ValuesOf<S>;
}

function option<T>(
  flags: string,
  description: string,
  read: (value: unknown) => T,
  configure: (option: Option) => Option = (made) => made,
): OptionSpec<T> {
  return { kind: 'option', create: ({ Option }) => configure(new Option(flags, description)), read };
}

const asText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asTexts = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;

/** `--wait`: true when given. */
export function flag(flags: string, description: string): OptionSpec<boolean> {
  return option(flags, description, (value) => value === true);
}

/** `--no-wait`: true unless given. */
export function negatedFlag(flags: `--no-${string}`, description: string): OptionSpec<boolean> {
  return option(flags, description, (value) => value !== false);
}

/** `--host <host>`: a string, or the default. */
export function text(flags: string, description: string): OptionSpec<string | undefined>;
export function text(flags: string, description: string, fallback: string): OptionSpec<string>;
export function text(flags: string, description: string, fallback?: string): OptionSpec<string | undefined> {
  return option(
    flags,
    description,
    (value) => asText(value) ?? fallback,
    (made) => (fallback === undefined ? made : made.default(fallback)),
  );
}

/** `--user-id <id>` that commander itself requires. */
export function requiredText(flags: string, description: string): OptionSpec<string> {
  return option(
    flags,
    description,
    (value) => asText(value) ?? '',
    (made) => made.makeOptionMandatory(),
  );
}

/** `--liveness <files...>`: every value given, or undefined. */
export function texts(flags: string, description: string): OptionSpec<string[] | undefined> {
  return option(flags, description, asTexts);
}

/** `--param <key=value>` given any number of times, in order. */
export function repeated(flags: string, description: string): OptionSpec<string[]> {
  return option(
    flags,
    description,
    (value) => asTexts(value) ?? [],
    (made) => made.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
  );
}

/** `--format <format>` from a fixed list (commander refuses anything else). */
export function choice<const C extends readonly string[]>(
  flags: string,
  description: string,
  choices: C,
): OptionSpec<C[number] | undefined>;
export function choice<const C extends readonly string[]>(
  flags: string,
  description: string,
  choices: C,
  fallback: C[number],
): OptionSpec<C[number]>;
export function choice<const C extends readonly string[]>(
  flags: string,
  description: string,
  choices: C,
  fallback?: C[number],
): OptionSpec<C[number] | undefined> {
  const pick = (value: unknown) => choices.find((item) => item === value);
  return option(
    flags,
    description,
    (value) => pick(value) ?? fallback,
    (made) => {
      const chosen = made.choices(choices);
      return fallback === undefined ? chosen : chosen.default(fallback);
    },
  );
}

/**
 * A value parsed when commander reads the flag, so a bad one is a usage error (exit 2) before the
 * command starts. A default is given as typed (and shown so in --help), then parsed like a flag.
 */
export function parsed<T>(flags: string, description: string, parse: (value: string) => T): OptionSpec<T | undefined>;
export function parsed<T>(
  flags: string,
  description: string,
  parse: (value: string) => T,
  fallback: string,
): OptionSpec<T>;
export function parsed<T>(
  flags: string,
  description: string,
  parse: (value: string) => T,
  fallback?: string,
): OptionSpec<T | undefined> {
  const fallbackValue = fallback === undefined ? undefined : parse(fallback);
  return option(
    flags,
    description,
    // commander stored what `parse` returned (or the parsed default).
    (value) => (value === undefined ? fallbackValue : (value as T)),
    (made) => {
      const withParser = made.argParser((value: string) => parse(value));
      return fallback === undefined ? withParser : withParser.default(fallbackValue, JSON.stringify(fallback));
    },
  );
}

/** `--user-id <id>` that commander requires, parsed like `parsed`. */
export function requiredParsed<T>(flags: string, description: string, parse: (value: string) => T): OptionSpec<T> {
  return option(
    flags,
    description,
    (value) => value as T,
    (made) => made.makeOptionMandatory().argParser((value: string) => parse(value)),
  );
}

/** The flag name of `--timeout <duration>`, for messages. */
function flagName(flags: string): string {
  return /--[a-z0-9-]+/.exec(flags)?.[0] ?? flags;
}

export function duration(flags: string, description: string): OptionSpec<Duration | undefined>;
export function duration(flags: string, description: string, fallback: string): OptionSpec<Duration>;
export function duration(flags: string, description: string, fallback?: string): OptionSpec<Duration | undefined> {
  const parse = (value: string) => parseDurationText(value, flagName(flags));
  return fallback === undefined ? parsed(flags, description, parse) : parsed(flags, description, parse, fallback);
}

/**
 * A whole number; the default is shown as a number. `check` (the flag's own rule, such as a range,
 * in its own words) runs on every value given, after the number itself is read.
 */
export function wholeNumber(flags: string, description: string): OptionSpec<number | undefined>;
export function wholeNumber(
  flags: string,
  description: string,
  fallback: number,
  check?: (value: number) => number,
): OptionSpec<number>;
export function wholeNumber(
  flags: string,
  description: string,
  fallback?: number,
  check: (value: number) => number = (value) => value,
): OptionSpec<number | undefined> {
  const parse = (value: string) => check(parseWholeNumber(value, flagName(flags)));
  return option(
    flags,
    description,
    (value) => (typeof value === 'number' ? value : fallback),
    (made) => {
      const withParser = made.argParser(parse);
      return fallback === undefined ? withParser : withParser.default(fallback);
    },
  );
}

/** A finite number; `check` as for wholeNumber. */
export function decimal(
  flags: string,
  description: string,
  check: (value: number) => number = (value) => value,
): OptionSpec<number | undefined> {
  const parse = (value: string) => check(parseNumber(value, flagName(flags)));
  return option(
    flags,
    description,
    (value) => (typeof value === 'number' ? value : undefined),
    (made) => made.argParser(parse),
  );
}

function argument<T>(name: string, description: string | undefined, read: (value: unknown) => T): ArgSpec<T> {
  return { kind: 'arg', create: ({ Argument }) => new Argument(name, description), read };
}

/** `<file>` */
export function arg(name: `<${string}>`, description?: string): ArgSpec<string> {
  return argument(name, description, (value) => asText(value) ?? '');
}

/** `[name]` */
export function optionalArg(name: `[${string}]`, description?: string): ArgSpec<string | undefined> {
  return argument(name, description, asText);
}

/** `<files...>` or `[topic...]` */
export function variadicArg(name: `<${string}...>` | `[${string}...]`, description?: string): ArgSpec<string[]> {
  return argument(name, description, (value) => asTexts(value) ?? []);
}
