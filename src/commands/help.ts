import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { defineCommand, variadicArg } from './define.js';

export default defineCommand({
  name: 'help',
  summary: 'help for a command, or a topic: exit-codes, environment',
  args: { words: variadicArg('[topic...]', 'a command name or exit-codes | environment') },
  async run({ words }, ctx, { program }) {
    const [{ HELP_TOPICS }, { didYouMean }] = await Promise.all([import('./help-topics.js'), import('./suggest.js')]);
    const path: string[] = [];
    const topic = HELP_TOPICS[words.join(' ')];
    if (topic !== undefined) {
      ctx.io.stdout.write(topic);
      return 0;
    }
    let target: Command = program;
    for (const word of words) {
      const sub = target.commands.find((command) => command.name() === word || command.aliases().includes(word));
      if (!sub) {
        // The topics and the commands at this level (from the program: a command added to the table is offered too).
        const names = target.commands.map((command) => [...path, command.name()].join(' '));
        const candidates = target === program ? [...Object.keys(HELP_TOPICS), ...names] : names;
        const where = ['smile', ...path].join(' ');
        throw new UsageError(`No help for "${words.join(' ')}".${didYouMean([...path, word].join(' '), candidates)}`, {
          hint: `Topics: ${Object.keys(HELP_TOPICS).join(', ')}; or a command name (\`${where} --help\` lists them).`,
        });
      }
      path.push(sub.name());
      target = sub;
    }
    // outputHelp (not helpInformation): the examples added with addHelpText belong to the help too.
    target.outputHelp();
    return 0;
  },
});
