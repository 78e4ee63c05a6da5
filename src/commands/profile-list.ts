import { defineCommand } from './define.js';

export default defineCommand({
  name: 'list',
  summary: 'list profiles',
  examples: ['smile profile list', 'smile profile list --json'],
  async run(_values, ctx) {
    const { listProfilesWithKeys } = await import('../config/profile-ops.js');
    const listed = await listProfilesWithKeys(ctx.env);
    ctx.out.result(listed, () => {
      if (listed.profiles.length === 0)
        return 'No profiles yet. Add one with: smile profile add NAME --partner-id ID --env sandbox';
      return listed.profiles
        .map(
          (profile) =>
            `${profile.current ? '*' : ' '} ${profile.name.padEnd(16)} ${profile.environment.padEnd(10)} partner ${profile.partner_id.padEnd(8)} ${profile.api_key ?? '(no key)'}${profile.base_url_is_default ? '' : `  ${profile.base_url}`}`,
        )
        .join('\n');
    });
    return 0;
  },
});
