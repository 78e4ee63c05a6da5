import { defineCommand } from './define.js';

export default defineCommand({
  name: 'list',
  summary: 'list profiles',
  examples: ['smile profile list', 'smile profile list --json'],
  async run(_values, ctx) {
    const { runProfileList } = await import('../config/profile-run.js');
    return runProfileList(ctx);
  },
});
