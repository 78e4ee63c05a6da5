import { UsageError } from '../errors.js';
import { arg, defineCommand, text } from './define.js';

export default defineCommand({
  name: 'set',
  summary: "change a profile's callback URL, base URL or partner id; the stored key is kept",
  args: { name: arg('<name>', 'profile name') },
  options: {
    callbackUrl: text('--callback-url <url>', "default callback URL ('' removes it)"),
    partnerId: text('--partner-id <id>', 'partner id (the stored key is kept)'),
  },
  examples: [
    'smile profile set prod --callback-url https://example.com/smile/callback',
    'smile profile set local --base-url http://127.0.0.1:8080/v1',
    "smile profile set sandbox --callback-url ''",
  ],
  after: `
--base-url (the global flag) sets the profile's base URL; '' goes back to the environment's default.
The environment cannot change (keys differ per environment): add another profile instead.
`,
  async run({ name, callbackUrl, partnerId }, ctx) {
    if (ctx.globals.env !== undefined)
      throw new UsageError("A profile's environment cannot change: its key belongs to that environment.", {
        hint: `Add another profile instead: smile profile add NAME --partner-id ID --env ${ctx.globals.env}`,
      });
    const [{ setProfileFields }, { describeSetProfile }] = await Promise.all([
      import('../config/profile-ops.js'),
      import('../config/profile-text.js'),
    ]);
    const set = await setProfileFields(name, { callbackUrl, partnerId, baseUrl: ctx.globals.baseUrl }, ctx.env);
    ctx.out.result(set, () => describeSetProfile(set));
    return 0;
  },
});
