import { Argument, Command, CommanderError, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  arg,
  choice,
  duration,
  flag,
  negatedFlag,
  parsed,
  readValues,
  repeated,
  requiredText,
  text,
  texts,
  variadicArg,
  wholeNumber,
} from '../../../src/commands/define.js';
import type { ArgSpec, OptionSpec } from '../../../src/commands/define.js';
import { UsageError } from '../../../src/errors.js';

/** Parse argv with real commander against the specs, and read the typed values back as cli.ts does. */
function parse<O extends Record<string, OptionSpec<unknown>>, A extends Record<string, ArgSpec<unknown>>>(
  options: O,
  args: A,
  argv: string[],
) {
  const command = new Command('t')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const names: Record<string, string> = {};
  for (const [key, spec] of Object.entries(options)) {
    const made = spec.create({ Option, Argument });
    command.addOption(made);
    names[key] = made.attributeName();
  }
  const argKeys = Object.keys(args);
  for (const spec of Object.values(args)) command.addArgument(spec.create({ Option, Argument }));
  command.action(() => undefined);
  command.parse(argv, { from: 'user' });
  const opts = command.opts();
  return {
    ...readValues(options, (key) => opts[names[key]!]),
    ...readValues(args, (key) => command.processedArgs[argKeys.indexOf(key)]),
  };
}

const options = {
  wait: negatedFlag('--no-wait', 'w'),
  json: flag('--json', 'j'),
  host: text('--host <host>', 'h', '127.0.0.1'),
  journal: text('--journal <path>', 'j'),
  param: repeated('--param <kv>', 'p'),
  liveness: texts('--liveness <files...>', 'l'),
  format: choice('--format <f>', 'f', ['csv', 'jsonl']),
  ifEnrolled: choice('--if-enrolled <a>', 'i', ['fail', 'skip', 'replace'], 'fail'),
  timeout: duration('--timeout <d>', 't', '120s'),
  concurrency: wholeNumber('--concurrency <n>', 'c', 4),
  shard: parsed('--shard <k/n>', 's', (value) => value.split('/').map(Number)),
};

describe('defineCommand specs', () => {
  it('reads defaults back typed when no flag is given', () => {
    const values = parse(options, { file: arg('<file>') }, ['rows.csv']);
    expect(values).toEqual({
      wait: true,
      json: false,
      host: '127.0.0.1',
      journal: undefined,
      param: [],
      liveness: undefined,
      format: undefined,
      ifEnrolled: 'fail',
      timeout: { text: '120s', ms: 120_000 },
      concurrency: 4,
      shard: undefined,
      file: 'rows.csv',
    });
  });

  it('reads given flags back typed and parsed', () => {
    const values = parse(options, { file: arg('<file>') }, [
      '--no-wait',
      '--json',
      '--host',
      '0.0.0.0',
      '--param',
      'a=1',
      '--param',
      'b=2',
      '--liveness',
      'x.jpg',
      'y.jpg',
      '--format',
      'jsonl',
      '--if-enrolled',
      'skip',
      '--timeout',
      '2m',
      '--concurrency',
      '16',
      '--shard',
      '2/4',
      '--',
      'in.jsonl',
    ]);
    expect(values).toEqual({
      wait: false,
      json: true,
      host: '0.0.0.0',
      journal: undefined,
      param: ['a=1', 'b=2'],
      liveness: ['x.jpg', 'y.jpg'],
      format: 'jsonl',
      ifEnrolled: 'skip',
      timeout: { text: '2m', ms: 120_000 },
      concurrency: 16,
      shard: [2, 4],
      file: 'in.jsonl',
    });
  });

  it('refuses a bad value at parse time with the flag named (a usage error, exit 2)', () => {
    expect(() => parse(options, {}, ['--timeout', 'soon'])).toThrow(UsageError);
    expect(() => parse(options, {}, ['--timeout', 'soon'])).toThrow(/--timeout takes a duration/);
    expect(() => parse(options, {}, ['--concurrency', 'many'])).toThrow(
      /--concurrency takes a whole number, not "many"/,
    );
    expect(() => parse(options, {}, ['--format', 'xml'])).toThrow(CommanderError);
  });

  it('a required option and variadic arguments', () => {
    const specs = { partnerId: requiredText('--partner-id <id>', 'p') };
    expect(() => parse(specs, {}, [])).toThrow(/required option '--partner-id <id>' not specified/);
    expect(parse(specs, { files: variadicArg('<files...>') }, ['--partner-id', '085', 'a.jpg', 'b.jpg'])).toEqual({
      partnerId: '085',
      files: ['a.jpg', 'b.jpg'],
    });
  });
});
