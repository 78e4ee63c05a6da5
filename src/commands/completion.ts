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
  async run({ shell }, ctx, { program }) {
    const { completionScript } = await import('../output/completion.js');
    ctx.io.stdout.write(completionScript(shell, program));
    return 0;
  },
});
