import { arg, defineCommand } from './define.js';

export default defineCommand({
  name: 'remove',
  summary: 'remove a profile and its key',
  args: { name: arg('<name>') },
  examples: ['smile profile remove old-sandbox'],
  async run({ name }, ctx) {
    const { removeProfileAndKey } = await import('../config/profile-ops.js');
    const removed = await removeProfileAndKey(name, ctx.env);
    ctx.out.result(
      removed,
      () =>
        `✓ removed profile ${removed.removed}${removed.key_removed ? ' and its key' : ''}${removed.current_profile ? ` · current: ${removed.current_profile}` : ''}`,
    );
    return 0;
  },
});
