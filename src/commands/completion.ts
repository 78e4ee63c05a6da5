import { arg, defineCommand } from './define.js';

export default defineCommand({
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  args: { shell: arg('<shell>', 'bash, zsh or fish') },
  examples: [
    'source <(smile completion bash)    # in ~/.bashrc',
    'source <(smile completion zsh)     # in ~/.zshrc',
    'smile completion fish > ~/.config/fish/completions/smile.fish',
  ],
  after: `
The scripts complete commands, flags, the values of choice flags (--env sandbox|production …),
help topics, the codes of explain (Smile ID's and smile's own), and profile names after --profile
and for the profile commands: those are read from config.json when you press TAB (names only,
never a key).
`,
  async run({ shell }, ctx, { program }) {
    const { COMPLETION_SHELLS, completionScript, PROFILES_QUERY } = await import('../output/completion.js');
    if (shell === PROFILES_QUERY) {
      // Called by the scripts at TAB time: profile names, one a line; nothing at all on any problem.
      const { configDir } = await import('../config/paths.js');
      const { profileNames } = await import('../config/profiles.js');
      const names = await profileNames(configDir(ctx.env)).catch(() => []);
      const safe = names.filter((name) => /^[A-Za-z0-9._-]{1,64}$/.test(name));
      ctx.io.stdout.write(safe.map((name) => `${name}\n`).join(''));
      return 0;
    }
    const [{ HELP_TOPICS }, { allCodes }, { smileCodes }] = await Promise.all([
      import('./help-topics.js'),
      import('../smile/codes.js'),
      import('./error-codes.js'),
    ]);
    const commands = program.commands.map((command) => command.name());
    ctx.io.stdout.write(
      completionScript(shell, program, {
        help: [...Object.keys(HELP_TOPICS), ...commands],
        explain: [
          ...allCodes().map((info) => info.code),
          // smile's own codes; http_NNN stands for every status and is not a word to type.
          ...smileCodes()
            .map((info) => info.code)
            .filter((code) => code !== 'http_NNN'),
        ],
        completion: COMPLETION_SHELLS,
        'profile use': 'profiles',
        'profile show': 'profiles',
        'profile set': 'profiles',
        'profile remove': 'profiles',
      }),
    );
    return 0;
  },
});
