import type { RunContext } from '../context.js';
import { CancelledError, UsageError } from '../errors.js';
import { defineCommand, flag, optionalArg } from './define.js';

export default defineCommand({
  name: 'show',
  summary: 'show a profile (the key masked) and where each setting comes from',
  args: { name: optionalArg('[name]') },
  options: {
    showKey: flag('--show-key', 'print the whole API key, after a confirmation on a terminal'),
  },
  examples: ['smile profile show', 'smile profile show prod --json', 'smile profile show prod --show-key'],
  after: `
--show-key asks first, on a terminal only: without one (a pipe, CI, --no-input) it is refused (exit 2),
so that a key never lands in a log by accident.
`,
  async run({ name, showKey }, ctx) {
    const [{ showEffectiveSettings }, { settingsFlags }] = await Promise.all([
      import('../config/profile-ops.js'),
      import('../config/resolve.js'),
    ]);
    const flags = settingsFlags(ctx.globals);
    let reveal = false;
    if (showKey) {
      requireTerminal(ctx);
      const masked = await showEffectiveSettings(name, { env: ctx.env, flags });
      if (masked.api_key === null) throw new UsageError('There is no API key to show: none is set for this profile.');
      reveal = await confirm(
        ctx,
        `Print the whole API key of ${masked.profile === null ? 'this run' : `profile ${masked.profile}`} on this terminal? [y/N] `,
      );
      if (!reveal) ctx.out.info('Not shown: the key stays masked.');
    }
    const shown = await showEffectiveSettings(name, { env: ctx.env, flags, showKey: reveal });
    ctx.out.result(shown, () => {
      const source = (value: string | null) => (value ? ` (${value})` : '');
      const mode = shown.credentials_file_mode
        ? ` (mode ${shown.credentials_file_mode}${shown.credentials_file_too_open ? ': too open, run chmod 600' : ''})`
        : '';
      return [
        `profile      ${shown.profile ?? '(none)'}${source(shown.sources.profile)}${shown.current ? ' · current' : ''}`,
        `partner id   ${shown.partner_id ?? '(missing)'}${source(shown.sources.partner_id)}`,
        `api key      ${shown.api_key ?? '(missing)'}${source(shown.sources.api_key)}`,
        `environment  ${shown.environment}${source(shown.sources.environment)}`,
        `base url     ${shown.base_url}${source(shown.sources.base_url)}`,
        `callback     ${shown.callback_url ?? '(none)'}${source(shown.sources.callback_url)}`,
        `config       ${shown.config_file}`,
        `key store    ${shown.key_location}${shown.key_store_reason ? ` (not the OS keyring: ${shown.key_store_reason})` : ''}`,
        `credentials  ${shown.credentials_file}${mode}`,
        ...(shown.missing.length > 0
          ? [`missing      ${shown.missing.join(', ')}: add with smile profile add NAME --partner-id ID --env sandbox`]
          : []),
      ].join('\n');
    });
    return 0;
  },
});

function requireTerminal(ctx: RunContext): void {
  if (ctx.interactive) return;
  throw new UsageError(
    '--show-key prints the whole API key only after a confirmation on a terminal, and this run has none (stdin or stdout is not a terminal, or --no-input / SMILE_NO_INPUT / CI is set).',
    {
      code: 'confirmation_required',
      hint: 'Run it in a terminal. A script that needs the key should read it from its own secret store (SMILE_API_KEY_FILE).',
    },
  );
}

async function confirm(ctx: RunContext, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: false });
  try {
    const answer = await rl.question(question, { signal: ctx.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    if (ctx.signal.aborted) throw new CancelledError('Interrupted: the key was not shown.');
    return false;
  } finally {
    rl.close();
  }
}
