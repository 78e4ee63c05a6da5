import { defineCommand, optionalArg } from './define.js';

export default defineCommand({
  name: 'show',
  summary: 'show a profile (the key masked) and where each setting comes from',
  args: { name: optionalArg('[name]') },
  examples: ['smile profile show', 'smile profile show prod --json'],
  async run({ name }, ctx) {
    const [{ showEffectiveSettings }, { settingsFlags }] = await Promise.all([
      import('../config/profile-ops.js'),
      import('../config/resolve.js'),
    ]);
    const shown = await showEffectiveSettings(name, { env: ctx.env, flags: settingsFlags(ctx.globals) });
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
        `credentials  ${shown.credentials_file}${mode}`,
        ...(shown.missing.length > 0
          ? [`missing      ${shown.missing.join(', ')}: add with smile profile add NAME --partner-id ID --env sandbox`]
          : []),
      ].join('\n');
    });
    return 0;
  },
});
