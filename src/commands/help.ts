import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { defineCommand, variadicArg } from './define.js';

export default defineCommand({
  name: 'help',
  summary: 'help for a command, or a topic: exit-codes, environment',
  args: { words: variadicArg('[topic...]', 'a command name or exit-codes | environment') },
  async run({ words }, ctx, { program }) {
    const { HELP_TOPICS } = await import('./help-topics.js');
    const topic = HELP_TOPICS[words.join(' ')];
    if (topic !== undefined) {
      ctx.io.stdout.write(topic);
      return 0;
    }
    let target: Command | undefined = program;
    for (const word of words) target = target?.commands.find((sub) => sub.name() === word);
    if (!target)
      throw new UsageError(`No help for "${words.join(' ')}".`, {
        hint: `Topics: ${Object.keys(HELP_TOPICS).join(', ')}; or a command name (smile --help lists them).`,
      });
    // outputHelp (not helpInformation): the examples added with addHelpText belong to the help too.
    target.outputHelp();
    return 0;
  },
});
