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
    use: flag('--use', 'make it the current profile (a production profile becomes current only so)'),
    allowUse: negatedFlag('--no-use', 'do not make it the current profile'),
  },
  examples: [
    'smile profile add sandbox --partner-id 085 --env sandbox',
    'smile profile add prod --partner-id 085 --env production --api-key-file ~/smile-prod.key',
    'pass show smile/sandbox | smile profile add ci --partner-id 085 --env sandbox --api-key-file -',
  ],
  after: `
A sandbox profile becomes the current one (unless --no-use); a production profile never does by
itself: runs against production name it with --profile, or make it current with --use or
\`smile profile use NAME\`. The output says which.

The key goes to the OS keyring (macOS Keychain, Windows Credential Manager, a Secret Service on
Linux) when one answers, else to credentials.json (mode 0600); the output says which, and why.
SMILE_CREDENTIAL_STORE=file|keyring chooses. There is no flag that takes the key itself: it would
land in shell history and \`ps\`.
`,
  async run({ name, partnerId, callbackUrl, apiKeyFile, force, use: useFlag, allowUse }, ctx) {
    const environment = ctx.globals.env;
    if (environment === undefined)
      throw new UsageError('--env sandbox|production is required: keys differ per environment.', {
        hint: `smile profile add ${name} --partner-id ${partnerId} --env sandbox`,
      });
    // The last of --use / --no-use wins; without either a sandbox profile becomes current, a production one not.
    const use = useFlag ? true : !allowUse ? false : 'default';
    const { addProfileWithKey, readApiKeyFile } = await import('../config/profile-ops.js');
    const apiKey =
      apiKeyFile === undefined ? await promptForApiKey(ctx) : await readApiKeyFile(apiKeyFile, ctx.io.stdin);
    const added = await addProfileWithKey(
      { name, partnerId, environment, baseUrl: ctx.globals.baseUrl, callbackUrl, apiKey, use, overwrite: force },
      ctx.env,
    );
    const { describeAddedProfile } = await import('../config/profile-text.js');
    ctx.out.result(added, () => describeAddedProfile(added));
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
