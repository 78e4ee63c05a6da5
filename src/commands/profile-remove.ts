import { arg, defineCommand } from './define.js';

export default defineCommand({
  name: 'remove',
  summary: 'remove a profile and its key',
  args: { name: arg('<name>') },
  examples: ['smile profile remove old-sandbox'],
  async run({ name }, ctx) {
    const { runProfileRemove } = await import('../config/profile-run.js');
    return runProfileRemove(name, ctx);
  },
});
