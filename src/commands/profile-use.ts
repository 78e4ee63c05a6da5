import { arg, defineCommand } from './define.js';

export default defineCommand({
  name: 'use',
  summary: 'make a profile the current one',
  args: { name: arg('<name>') },
  examples: ['smile profile use prod'],
  async run({ name }, ctx) {
    const { runProfileUse } = await import('../config/profile-run.js');
    return runProfileUse(name, ctx);
  },
});
