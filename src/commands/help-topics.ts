/** `smile help exit-codes` and `smile help environment`: the contract of product.md, for humans. */

/** One exit code of product.md: its number, its name in errors.ts, what it means. */
export interface ExitCodeInfo {
  exit: number;
  name: string;
  meaning: string;
}

/** Every exit code smile gives, in order (`smile help exit-codes`, `smile explain 4`). */
export const EXIT_CODES: readonly ExitCodeInfo[] = [
  {
    exit: 0,
    name: 'ok',
    meaning: 'success: approved, or submitted with --no-wait (bulk: every row approved or skipped as asked)',
  },
  {
    exit: 1,
    name: 'bug',
    meaning: 'unexpected error: a bug (run again with --debug and report it; the key is redacted)',
  },
  { exit: 2, name: 'usage', meaning: 'usage: unknown flag, missing argument, conflicting options' },
  {
    exit: 3,
    name: 'auth',
    meaning: 'auth or config: no credentials, unknown profile, 2205 not authorized, clock skew, bad response signature',
  },
  { exit: 4, name: 'input', meaning: 'invalid input: a selfie or a row failed its checks; nothing was sent for it' },
  {
    exit: 5,
    name: 'api',
    meaning: 'API or network failure after retries (retrying later can help; bulk: some rows need a re-run)',
  },
  {
    exit: 6,
    name: 'refused',
    meaning: 'refused or rejected: the job finished not approved, or the API refused it (2209, 2215 …)',
  },
  { exit: 7, name: 'expectation', meaning: '--expect did not match the outcome' },
  {
    exit: 8,
    name: 'notFinal',
    meaning: 'not final: pending at --timeout, or provisional (human review); the message names `smile status …`',
  },
  {
    exit: 9,
    name: 'declined',
    meaning: 'declined: you answered no to a confirmation (production bulk, the register form); nothing was sent',
  },
  {
    exit: 130,
    name: 'interrupted',
    meaning: 'interrupted (Ctrl-C): the message says what may still be running at Smile ID',
  },
];

export const HELP_TOPICS: Record<string, string> = {
  'exit-codes': `Exit codes (scripts rely on them):
${EXIT_CODES.map(({ exit, meaning }) => `  ${String(exit).padEnd(4)} ${meaning}`).join('\n')}
\`smile explain N\` explains one: a number of 1 or 2 digits, or 130, is an exit code (Smile ID's own codes
have 4 digits, such as 0810 or 2205; HTTP statuses have 3); \`smile explain exit-N\` always means exit code N.
`,
  environment: `Environment variables (precedence: flag > environment > profile > default):
  SMILE_PROFILE        profile to use (like --profile)
  SMILE_ENV            sandbox or production (like --env)
  SMILE_PARTNER_ID     partner id; with SMILE_API_KEY enough for CI, no profile needed
  SMILE_API_KEY        API key (there is no flag for it: it would land in shell history and ps)
  SMILE_API_KEY_FILE   file holding the API key (e.g. a mounted secret)
  SMILE_BASE_URL       v1 base URL including /v1 (like --base-url); http only for loopback hosts
  SMILE_CALLBACK_URL   default callback URL (like --callback-url); https in production
  SMILE_CONFIG_DIR     where config.json and credentials.json (0600) live
  SMILE_CREDENTIAL_STORE  auto (OS keyring when one answers, else the file), keyring or file
  SMILE_NO_INPUT       never prompt (like --no-input)
  SMILE_SHARD          bulk: K/N, or auto/N to read JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) (like --shard)
  NO_COLOR             no colour (CLICOLOR=0 too); --color always overrides it
  CLICOLOR_FORCE       colour even into files and pipes (FORCE_COLOR too; FORCE_COLOR=0 is off)
  CI                   no prompts, no spinners
`,
};

/** Shown under `register --help` and `status --help`. */
export const ANSWER_CHECKS_HELP =
  "Answers are checked before they are believed: job_status must be signed with your key within ±15 min of this machine's clock; no request follows a redirect; bodies are capped (job_status 4 MiB, prep upload and the zip PUT's answer 64 KiB); fields must have their documented types (exit 3 for a signature, 5 otherwise).\n";

/** `--skip-face-check`, the same words on every command that checks selfies. */
export const SKIP_FACE_CHECK_HELP =
  'do not look for the face (for photos you have looked at yourself); recorded as a warning in every report';
