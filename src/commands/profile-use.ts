import { arg, defineCommand } from './define.js';

export default defineCommand({
  name: 'use',
  summary: 'make a profile the current one',
  args: { name: arg('<name>') },
  examples: ['smile profile use prod'],
  async run({ name }, ctx) {
    const { switchProfile } = await import('../config/profile-ops.js');
    const used = await switchProfile(name, ctx.env);
    ctx.out.result(used, () => `✓ current profile: ${used.current_profile}${used.changed ? '' : ' (unchanged)'}`);
    return 0;
  },
});
