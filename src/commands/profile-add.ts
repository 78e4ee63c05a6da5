import { arg, defineCommand, flag, negatedFlag, requiredText, text } from './define.js';

export default defineCommand({
  name: 'add',
  summary: 'add (or with --force replace) a profile; asks for the API key without echo',
  args: { name: arg('<name>', 'profile name') },
  options: {
    partnerId: requiredText('--partner-id <id>', 'your Smile ID partner id (kept as typed, e.g. 085)'),
    callbackUrl: text('--callback-url <url>', 'default callback URL for this profile'),
    apiKeyFile: text('--api-key-file <path>', 'read the API key from a file, or - for stdin'),
    force: flag('--force', 'replace an existing profile'),
    use: negatedFlag('--no-use', 'do not make it the current profile'),
  },
  examples: ['smile profile add sandbox --partner-id 085 --env sandbox', 'smile profile add prod --partner-id 085 --env production --api-key-file ~/smile-prod.key', 'pass show smile/sandbox | smile profile add ci --partner-id 085 --env sandbox --api-key-file -'],
  after: '\nThere is no flag that takes the key itself: it would land in shell history and `ps`.\n',
  async run({ name, ...values }, ctx) {
    const { runProfileAdd } = await import('../config/profile-run.js');
    return runProfileAdd(name, values, ctx);
  },
});
