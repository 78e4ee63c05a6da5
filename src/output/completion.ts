import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface CommandWords {
  path: string[];
  options: string[];
  subcommands: string[];
}

/** Every command path of the program with its long options and subcommand names. */
function walk(command: Command, path: string[] = []): CommandWords[] {
  const options = command.options.map((option) => option.long).filter((flag): flag is string => Boolean(flag));
  const subcommands = command.commands.map((sub) => sub.name());
  return [{ path, options, subcommands }, ...command.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

export function completionScript(shell: string, program: Command): string {
  const words = walk(program);
  const globals = words[0]!.options;
  const wordsFor = (entry: CommandWords) =>
    [...entry.subcommands, ...entry.options, ...(entry.path.length > 0 ? globals : []), '--help'].join(' ');
  switch (shell) {
    case 'bash': {
      // Command paths are plain words (no quotes or |), so they are matched inside one |-separated list.
      const known = `|${words
        .filter((entry) => entry.path.length > 0)
        .map((entry) => entry.path.join(' '))
        .join('|')}|`;
      const cases = words.map((entry) => `    "${entry.path.join(' ')}") words="${wordsFor(entry)}" ;;`).join('\n');
      return `# smile completion for bash: source <(smile completion bash)
_smile_complete() {
  local cur cmdpath="" candidate w words
  local known='${known}'
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in
      -*) ;;
      *)
        if [ -z "$cmdpath" ]; then candidate="$w"; else candidate="$cmdpath $w"; fi
        case "$known" in *"|$candidate|"*) cmdpath="$candidate" ;; esac
        ;;
    esac
  done
  case "$cmdpath" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  if [[ "$cur" != -* && \${#COMPREPLY[@]} -eq 0 ]]; then COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -o default -F _smile_complete smile
`;
    }
    case 'zsh': {
      const cases = words.map((entry) => `    "${entry.path.join(' ')}") reply=(${wordsFor(entry)}) ;;`).join('\n');
      // Not "path": in zsh that is the array tied to PATH.
      return `#compdef smile
# smile completion for zsh: source <(smile completion zsh)
_smile() {
  local cmdpath="" w candidate
  for w in \${words[2,CURRENT-1]}; do
    [[ $w == -* ]] && continue
    candidate=\${cmdpath:+$cmdpath }$w
    case "$candidate" in
${words
  .filter((entry) => entry.path.length > 0)
  .map((entry) => `      "${entry.path.join(' ')}") cmdpath=$candidate ;;`)
  .join('\n')}
    esac
  done
  local -a reply
  case "$cmdpath" in
${cases}
  esac
  compadd -- $reply
  _files
}
compdef _smile smile
`;
    }
    case 'fish': {
      const lines = ['# smile completion for fish: smile completion fish | source'];
      for (const entry of words) {
        const condition =
          entry.path.length === 0
            ? '__fish_use_subcommand'
            : `__fish_seen_subcommand_from ${entry.path[entry.path.length - 1]}`;
        for (const sub of entry.subcommands) lines.push(`complete -c smile -n '${condition}' -a ${sub}`);
        for (const option of entry.options)
          lines.push(
            `complete -c smile -n '${entry.path.length === 0 ? 'true' : condition}' -l ${option.replace(/^--/, '')}`,
          );
      }
      return `${lines.join('\n')}\n`;
    }
    default:
      throw new UsageError(`smile completion takes bash, zsh or fish, not "${shell}".`);
  }
}
