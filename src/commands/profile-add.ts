import type { RunContext } from '../context.js';
import { CancelledError, UsageError } from '../errors.js';
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
  examples: [
    'smile profile add sandbox --partner-id 085 --env sandbox',
    'smile profile add prod --partner-id 085 --env production --api-key-file ~/smile-prod.key',
    'pass show smile/sandbox | smile profile add ci --partner-id 085 --env sandbox --api-key-file -',
  ],
  after: '\nThere is no flag that takes the key itself: it would land in shell history and `ps`.\n',
  async run({ name, partnerId, callbackUrl, apiKeyFile, force, use }, ctx) {
    const environment = ctx.globals.env;
    if (environment === undefined)
      throw new UsageError('--env sandbox|production is required: keys differ per environment.', {
        hint: `smile profile add ${name} --partner-id ${partnerId} --env sandbox`,
      });
    const { addProfileWithKey, readApiKeyFile } = await import('../config/profile-ops.js');
    const apiKey =
      apiKeyFile === undefined ? await promptForApiKey(ctx) : await readApiKeyFile(apiKeyFile, ctx.io.stdin);
    const added = await addProfileWithKey(
      { name, partnerId, environment, baseUrl: ctx.globals.baseUrl, callbackUrl, apiKey, use, overwrite: force },
      ctx.env,
    );
    ctx.out.result(added, () =>
      [
        `✓ profile ${added.name} ${added.replaced ? 'replaced' : 'added'}${added.current ? ' (current)' : ''}`,
        `  partner ${added.partner_id} · ${added.environment} · ${added.base_url}`,
        `  key ${added.api_key} in ${added.credentials_file} (mode 0600)`,
        `  Next: smile doctor${added.current ? '' : ` --profile ${added.name}`}`,
      ].join('\n'),
    );
    return 0;
  },
});

/** Without --api-key-file: a hidden prompt on a terminal; never a flag that takes the key. */
async function promptForApiKey(ctx: RunContext): Promise<string> {
  if (!ctx.interactive) {
    throw new UsageError('No API key given, and there is no terminal to ask for it.', {
      hint: 'Pass --api-key-file PATH, or --api-key-file - to read it from stdin (e.g. from a secret store).',
    });
  }
  const { promptHidden } = await import('../ui/key-prompt.js');
  const key = await promptHidden('API key (from the Smile ID portal):', {
    stdin: ctx.io.stdin as NodeJS.ReadStream,
    stderr: ctx.io.stderr as NodeJS.WriteStream,
  });
  if (key === undefined) throw new CancelledError('Cancelled: no profile was written.');
  if (key.trim() === '') throw new UsageError('The API key was empty; no profile was written.');
  return key;
}
