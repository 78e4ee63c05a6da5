import type { RunContext } from '../context.js';
import { CancelledError, UsageError } from '../errors.js';
import {
  addProfileCommand,
  listProfilesCommand,
  readApiKeyFile,
  removeProfileCommand,
  showProfileCommand,
  useProfileCommand,
} from '../config/profile-commands.js';

export interface ProfileAddOptions {
  partnerId: string;
  callbackUrl?: string;
  apiKeyFile?: string;
  force?: boolean;
  use?: boolean;
}

/** The API key: from --api-key-file PATH|-, else a hidden prompt on a terminal; never from a flag. */
async function obtainApiKey(opts: ProfileAddOptions, ctx: RunContext): Promise<string> {
  if (opts.apiKeyFile !== undefined) return readApiKeyFile(opts.apiKeyFile, ctx.io.stdin);
  if (!ctx.interactive) {
    throw new UsageError('No API key given, and there is no terminal to ask for it.', {
      hint: 'Pass --api-key-file PATH, or --api-key-file - to read it from stdin (e.g. from a secret store).',
    });
  }
  const { promptHidden } = await import('../ui/key-prompt.js');
  const key = await promptHidden('API key (from the Smile ID portal):', { stdin: ctx.io.stdin as NodeJS.ReadStream, stderr: ctx.io.stderr as NodeJS.WriteStream });
  if (key === undefined) throw new CancelledError('Cancelled: no profile was written.');
  if (key.trim() === '') throw new UsageError('The API key was empty; no profile was written.');
  return key;
}

export async function runProfileAdd(name: string, opts: ProfileAddOptions, ctx: RunContext): Promise<number> {
  const env = ctx.globals.env;
  if (env === undefined) throw new UsageError('--env sandbox|production is required: keys differ per environment.', { hint: `smile profile add ${name} --partner-id ${opts.partnerId} --env sandbox` });
  const apiKey = await obtainApiKey(opts, ctx);
  const result = await addProfileCommand(
    {
      name,
      partnerId: opts.partnerId,
      env,
      ...(ctx.globals.baseUrl === undefined ? {} : { baseUrl: ctx.globals.baseUrl }),
      ...(opts.callbackUrl === undefined ? {} : { callbackUrl: opts.callbackUrl }),
      apiKey,
      use: opts.use !== false,
      overwrite: opts.force === true,
    },
    { env: ctx.env },
  );
  ctx.out.result({ ok: true, ...result }, () =>
    [
      `✓ profile ${result.name} ${result.replaced ? 'replaced' : 'added'}${result.current ? ' (current)' : ''}`,
      `  partner ${result.partnerId} · ${result.environment} · ${result.baseUrl}`,
      `  key ${result.apiKey} in ${result.credentialsFile} (mode 0600)`,
      `  Next: smile doctor${result.current ? '' : ` --profile ${result.name}`}`,
    ].join('\n'),
  );
  return 0;
}

export async function runProfileList(ctx: RunContext): Promise<number> {
  const result = await listProfilesCommand({ env: ctx.env });
  ctx.out.result({ ok: true, ...result }, () => {
    if (result.profiles.length === 0) return 'No profiles yet. Add one with: smile profile add NAME --partner-id ID --env sandbox';
    return result.profiles
      .map((profile) => `${profile.current ? '*' : ' '} ${profile.name.padEnd(16)} ${profile.environment.padEnd(10)} partner ${profile.partnerId.padEnd(8)} ${profile.apiKey ?? '(no key)'}${profile.baseUrlIsDefault ? '' : `  ${profile.baseUrl}`}`)
      .join('\n');
  });
  return 0;
}

export async function runProfileUse(name: string, ctx: RunContext): Promise<number> {
  const result = await useProfileCommand(name, { env: ctx.env });
  ctx.out.result({ ok: true, ...result }, () => `✓ current profile: ${result.currentProfile}${result.changed ? '' : ' (unchanged)'}`);
  return 0;
}

export async function runProfileShow(name: string | undefined, ctx: RunContext): Promise<number> {
  const flags = {
    ...(ctx.globals.env === undefined ? {} : { env: ctx.globals.env }),
    ...(ctx.globals.baseUrl === undefined ? {} : { baseUrl: ctx.globals.baseUrl }),
    ...(ctx.globals.profile === undefined ? {} : { profile: ctx.globals.profile }),
  };
  const result = await showProfileCommand(name, { env: ctx.env, flags });
  ctx.out.result({ ok: result.missing.length === 0, ...result }, () => {
    const source = (value: string | null) => (value ? ` (${value})` : '');
    return [
      `profile      ${result.profile ?? '(none)'}${source(result.sources.profile)}${result.current ? ' · current' : ''}`,
      `partner id   ${result.partnerId ?? '(missing)'}${source(result.sources.partnerId)}`,
      `api key      ${result.apiKey ?? '(missing)'}${source(result.sources.apiKey)}`,
      `environment  ${result.environment}${source(result.sources.environment)}`,
      `base url     ${result.baseUrl}${source(result.sources.baseUrl)}`,
      `callback     ${result.callbackUrl ?? '(none)'}${source(result.sources.callbackUrl)}`,
      `config       ${result.configFile}`,
      `credentials  ${result.credentialsFile}${result.credentialsFileMode ? ` (mode ${result.credentialsFileMode}${result.credentialsFileTooOpen ? ': too open, run chmod 600' : ''})` : ''}`,
      ...(result.missing.length > 0 ? [`missing      ${result.missing.join(', ')}: add with smile profile add NAME --partner-id ID --env sandbox`] : []),
    ].join('\n');
  });
  return 0;
}

export async function runProfileRemove(name: string, ctx: RunContext): Promise<number> {
  const result = await removeProfileCommand(name, { env: ctx.env });
  ctx.out.result({ ok: true, ...result }, () => `✓ removed profile ${result.removed}${result.keyRemoved ? ' and its key' : ''}${result.currentProfile ? ` · current: ${result.currentProfile}` : ''}`);
  return 0;
}
