import { defineCommand, optionalArg } from './define.js';

export default defineCommand({
  name: 'show',
  summary: 'show a profile (the key masked) and where each setting comes from',
  args: { name: optionalArg('[name]') },
  examples: ['smile profile show', 'smile profile show prod --json'],
  async run({ name }, ctx) {
    const { runProfileShow } = await import('../config/profile-run.js');
    return runProfileShow(name, ctx);
  },
});
