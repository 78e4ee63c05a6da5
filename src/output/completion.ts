import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** The shells `smile completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

/**
 * The hidden argument the scripts call at completion time to list the profile names
 * (`smile completion __profiles`): names only, read from config.json, never a key.
 */
export const PROFILES_QUERY = '__profiles';

/** What a positional argument completes to: fixed words, or the profile names read at TAB time. */
export type PositionalWords = readonly string[] | 'profiles';

interface OptionWords {
  long: string;
  /** Takes a value (`--env <environment>`). */
  takesValue: boolean;
  /** Its allowed values, from the option spec (`choice(…)` in src/commands/define.ts). */
  choices: readonly string[] | undefined;
}

interface CommandWords {
  path: string[];
  options: OptionWords[];
  subcommands: string[];
}

/** Every command path of the program with its long options and subcommand names. */
function walk(command: Command, path: string[] = []): CommandWords[] {
  const options = command.options
    .filter((option) => Boolean(option.long))
    .map((option) => ({
      long: option.long!,
      takesValue: option.required || option.optional,
      choices: option.argChoices,
    }));
  const subcommands = command.commands.map((sub) => sub.name());
  return [{ path, options, subcommands }, ...command.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

/** Words that cannot break out of the scripts' quoting (profile names and codes are plain words). */
function plain(words: readonly string[]): string[] {
  return words.filter((word) => /^[A-Za-z0-9._:/-]+$/.test(word));
}

/**
 * The completion script for a shell. It knows the command tree, every option, the allowed values
 * of every choice option (from the specs, through commander), the positional words given in
 * `positional` (help topics, codes, shells by command path), and asks `smile completion
 * __profiles` for profile names after --profile and for the profile commands.
 */
export function completionScript(
  shell: string,
  program: Command,
  positional: Readonly<Record<string, PositionalWords>> = {},
): string {
  const words = walk(program);
  // --version belongs to `smile` alone.
  const globals = words[0]!.options.filter((option) => option.long !== '--version');
  const optionsOf = (entry: CommandWords) => [...entry.options, ...(entry.path.length > 0 ? globals : [])];
  const wordsFor = (entry: CommandWords) =>
    [...entry.subcommands, ...optionsOf(entry).map((option) => option.long), '--help'].join(' ');
  const valued = [...new Set(words.flatMap((entry) => entry.options.filter((o) => o.takesValue).map((o) => o.long)))];
  // Choice options by command path; a global one applies on every path.
  const choiceCases = words.flatMap((entry) =>
    entry.options
      .filter((option) => option.choices !== undefined && option.long !== '--profile')
      .map((option) => ({
        path: entry.path.join(' '),
        global: entry.path.length === 0,
        long: option.long,
        values: plain(option.choices ?? []),
      })),
  );
  const positionals = Object.entries(positional).map(([path, value]) => ({
    path,
    value: value === 'profiles' ? ('profiles' as const) : plain(value),
  }));
  const paths = words.filter((entry) => entry.path.length > 0).map((entry) => entry.path.join(' '));
  switch (shell) {
    case 'bash':
      return bashScript({ words, wordsFor, valued, choiceCases, positionals, paths });
    case 'zsh':
      return zshScript({ words, wordsFor, valued, choiceCases, positionals, paths });
    case 'fish':
      return fishScript({ words, optionsOf, choiceCases, positionals, paths, valued });
    default:
      throw new UsageError(`smile completion takes bash, zsh or fish, not "${shell}".`, {
        hint: 'e.g. source <(smile completion bash)',
      });
  }
}

interface ScriptParts {
  words: CommandWords[];
  wordsFor: (entry: CommandWords) => string;
  valued: string[];
  choiceCases: { path: string; global: boolean; long: string; values: string[] }[];
  positionals: { path: string; value: string[] | 'profiles' }[];
  paths: string[];
}

function bashScript({ words, wordsFor, valued, choiceCases, positionals, paths }: ScriptParts): string {
  // Command paths are plain words (no quotes or |), so they are matched inside one |-separated list.
  const known = `|${paths.join('|')}|`;
  const cases = words
    .map(
      (entry) =>
        `    "${entry.path.join(' ')}") words="${wordsFor(entry)}"; narrow="${entry.subcommands.join(' ')}" ;;`,
    )
    .join('\n');
  const choices = choiceCases
    .map(
      (item) =>
        `    ${item.global ? `*"|${item.long}"` : `"${item.path}|${item.long}"`}) COMPREPLY=( $(compgen -W "${item.values.join(' ')}" -- "$cur") ); return ;;`,
    )
    .join('\n');
  const positionalCases = positionals
    .map(
      (item) =>
        `      "${item.path}") ${item.value === 'profiles' ? 'narrow="$narrow $(_smile_profiles)"' : `narrow="$narrow ${item.value.join(' ')}"`} ;;`,
    )
    .join('\n');
  return `# smile completion for bash: source <(smile completion bash)
_smile_profiles() { command smile completion ${PROFILES_QUERY} 2>/dev/null; }
_smile_complete() {
  local cur prev cmdpath="" candidate w words narrow i skip=0
  local known='${known}'
  local valued=' ${valued.join(' ')} '
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  if [ "$COMP_CWORD" -gt 0 ]; then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      --*=*) ;;
      -*) case "$valued" in *" $w "*) skip=1 ;; esac ;;
      *)
        if [ -z "$cmdpath" ]; then candidate="$w"; else candidate="$cmdpath $w"; fi
        case "$known" in *"|$candidate|"*) cmdpath="$candidate" ;; esac
        ;;
    esac
  done
  # The value of an option: profile names, a choice's values, else a file name.
  if [ "$prev" = "--profile" ]; then
    COMPREPLY=( $(compgen -W "$(_smile_profiles)" -- "$cur") )
    return
  fi
  case "$cmdpath|$prev" in
${choices}
  esac
  case "$valued" in *" $prev "*) COMPREPLY=( $(compgen -f -- "$cur") ); return ;; esac
  case "$cmdpath" in
${cases}
  esac
  # Not an option being typed: the subcommands and the argument's words, when there are any.
  if [[ "$cur" != -* ]]; then
    case "$cmdpath" in
${positionalCases}
    esac
    if [ -n "\${narrow// /}" ]; then words="$narrow"; fi
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  if [[ "$cur" != -* && \${#COMPREPLY[@]} -eq 0 ]]; then COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -o default -F _smile_complete smile
`;
}

function zshScript({ words, wordsFor, valued, choiceCases, positionals, paths }: ScriptParts): string {
  const cases = words
    .map(
      (entry) =>
        `    "${entry.path.join(' ')}") reply=(${wordsFor(entry)}); narrow=(${entry.subcommands.join(' ')}) ;;`,
    )
    .join('\n');
  const choices = choiceCases
    .map(
      (item) =>
        `    ${item.global ? `*"|${item.long}"` : `"${item.path}|${item.long}"`}) compadd -- ${item.values.join(' ')}; return ;;`,
    )
    .join('\n');
  const positionalCases = positionals
    .map(
      (item) =>
        `      "${item.path}") narrow+=(${item.value === 'profiles' ? '${(f)"$(_smile_profiles)"}' : item.value.join(' ')}) ;;`,
    )
    .join('\n');
  // Not "path": in zsh that is the array tied to PATH.
  return `#compdef smile
# smile completion for zsh: source <(smile completion zsh)
_smile_profiles() { command smile completion ${PROFILES_QUERY} 2>/dev/null; }
_smile() {
  local cmdpath="" w candidate prev
  local -i i skip=0
  local -a valued=(${valued.join(' ')})
  for (( i = 2; i < CURRENT; i++ )); do
    w=\${words[i]}
    if (( skip )); then skip=0; continue; fi
    if [[ $w == -* ]]; then
      (( \${valued[(Ie)$w]} )) && skip=1
      continue
    fi
    candidate=\${cmdpath:+$cmdpath }$w
    case "$candidate" in
${paths.map((path) => `      "${path}") cmdpath=$candidate ;;`).join('\n')}
    esac
  done
  prev=\${words[CURRENT-1]}
  if [[ $prev == --profile ]]; then
    compadd -- \${(f)"$(_smile_profiles)"}
    return
  fi
  case "$cmdpath|$prev" in
${choices}
  esac
  if (( \${valued[(Ie)$prev]} )); then
    _files
    return
  fi
  local -a reply narrow
  case "$cmdpath" in
${cases}
  esac
  if [[ \${words[CURRENT]} != -* ]]; then
    case "$cmdpath" in
${positionalCases}
    esac
    (( \${#narrow} )) && reply=($narrow)
  fi
  compadd -- $reply
  _files
}
compdef _smile smile
`;
}

function fishScript({
  words,
  optionsOf,
  choiceCases,
  positionals,
  paths,
  valued,
}: Omit<ScriptParts, 'wordsFor'> & { optionsOf: (entry: CommandWords) => OptionWords[] }): string {
  const quote = (text: string) => `'${text}'`;
  // Command paths are plain words: they sit inside double quotes inside the single-quoted condition.
  const isPath = (path: string) => quote(`__smile_is "${path}"`);
  const lines = [
    '# smile completion for fish: smile completion fish | source',
    `set -g __smile_known ${paths.map(quote).join(' ')}`,
    `set -g __smile_valued ${valued.join(' ')}`,
    '# The command path typed so far (`profile add`), skipping options and their values.',
    'function __smile_path',
    '    set -l tokens (commandline -opc)',
    '    set -e tokens[1]',
    "    set -l cmdpath ''",
    '    set -l skip 0',
    '    for w in $tokens',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $w',
    "            case '-*'",
    '                if contains -- $w $__smile_valued',
    '                    set skip 1',
    '                end',
    "            case '*'",
    '                set -l candidate (string trim -- "$cmdpath $w")',
    '                if contains -- $candidate $__smile_known',
    '                    set cmdpath $candidate',
    '                end',
    '        end',
    '    end',
    '    echo $cmdpath',
    'end',
    'function __smile_is',
    '    set -l current (__smile_path)',
    '    test "$current" = "$argv[1]"',
    'end',
    `complete -c smile -l profile -x -a '(command smile completion ${PROFILES_QUERY} 2>/dev/null)'`,
  ];
  for (const entry of words) {
    const condition = isPath(entry.path.join(' '));
    if (entry.subcommands.length > 0)
      lines.push(`complete -c smile -n ${condition} -f -a ${quote(entry.subcommands.join(' '))}`);
    for (const option of optionsOf(entry)) {
      if (option.long === '--profile') continue;
      const global = entry.path.length > 0 && !entry.options.includes(option);
      if (global) continue; // globals are declared once, on the root, without a condition
      const name = option.long.replace(/^--/, '');
      const scope = entry.path.length === 0 ? '' : `-n ${condition} `;
      const choice = choiceCases.find((item) => item.long === option.long && item.path === entry.path.join(' '));
      if (choice !== undefined)
        lines.push(`complete -c smile ${scope}-l ${name} -x -a ${quote(choice.values.join(' '))}`);
      else lines.push(`complete -c smile ${scope}-l ${name}${option.takesValue ? ' -r' : ''}`);
    }
  }
  for (const item of positionals) {
    const words =
      item.value === 'profiles' ? `(command smile completion ${PROFILES_QUERY} 2>/dev/null)` : item.value.join(' ');
    lines.push(`complete -c smile -n ${isPath(item.path)} -f -a ${quote(words)}`);
  }
  return `${lines.join('\n')}\n`;
}
