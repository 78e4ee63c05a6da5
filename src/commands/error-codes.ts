/**
 * smile's own error and warning codes: the `code` of `{"ok": false, "error": {"code": …}}`, of a
 * bulk row's `error_code` and of its `warnings`, with what each means and what to do, for
 * `smile explain CODE`. Written from the code that gives each one (test/cli/explain-error-codes.test.ts
 * reads every code from src/ and fails on one missing here). Smile ID's own codes (0810, 2205, HTTP
 * statuses) are in src/smile/codes.ts; the selfie checks (no_face …) in src/selfie/finding-info.ts.
 */
import { findFinding } from '../selfie/finding-info.js';

/** How a code reaches the user: an error that ends the command, a bulk row's reason, or a warning. */
export type SmileCodeKind = 'error' | 'row' | 'warning';

export interface SmileCodeInfo {
  code: string;
  kind: SmileCodeKind;
  title: string;
  meaning: string;
  /** What to do: the flag, variable or command. */
  hint: string;
  /** The exit codes it comes with (a row: the run's; a warning: none of its own). */
  exit: readonly number[];
}

/** A bulk row refused before it is sent: its outcome is `invalid`, it goes to the --rejects file. */
const ROW_EXIT = [4, 6] as const;
const ROW_EFFECT =
  'The row is not sent: its outcome is invalid and it goes to the --rejects file; the other rows go on.';
const FIX_ROW = 'Fix the row in the --rejects file (it has the same columns) and run that file as a new input.';

const table: SmileCodeInfo[] = [
  // The defaults of src/errors.ts: a failure without a more precise code.
  {
    code: 'usage',
    kind: 'error',
    title: 'usage error',
    meaning: 'A flag, argument or value is wrong, missing or in conflict with another; nothing was done.',
    hint: "Read the message, then the command's --help (`smile COMMAND --help`).",
    exit: [2],
  },
  {
    code: 'auth',
    kind: 'error',
    title: 'auth or config error',
    meaning: 'The credentials or the configuration cannot be used (the message says which).',
    hint: 'Check the profile and key with `smile doctor` and `smile profile list`.',
    exit: [3],
  },
  {
    code: 'invalid_input',
    kind: 'error',
    title: 'invalid input',
    meaning: 'A file or value given to smile failed its checks; nothing was sent for it.',
    hint: 'Fix the file or value the message names and run the same command again.',
    exit: [4],
  },
  {
    code: 'api',
    kind: 'error',
    title: 'API or network failure',
    meaning: "The API or the network failed after smile's retries, or smile could not write a file it needed.",
    hint: 'Retrying later can help; `smile doctor` checks the connection. Run with --debug to see the requests.',
    exit: [5],
  },
  {
    code: 'refused',
    kind: 'error',
    title: 'refused',
    meaning: 'The API refused the request for good, or the job finished not approved.',
    hint: 'The message names the Smile ID code: `smile explain CODE` says what to do.',
    exit: [6],
  },
  {
    code: 'expectation',
    kind: 'error',
    title: '--expect did not match',
    meaning: 'The outcome is not the one --expect asked for.',
    hint: 'Look at the outcome printed above; change --expect if the test expected the wrong one.',
    exit: [7],
  },
  {
    code: 'not_final',
    kind: 'error',
    title: 'not final',
    meaning: 'The job is still pending or under human review (provisional).',
    hint: 'Ask again later with the `smile status …` command the message names.',
    exit: [8],
  },
  {
    code: 'declined',
    kind: 'error',
    title: 'declined',
    meaning: 'You answered no to a confirmation (production bulk, the register form); nothing was sent.',
    hint: 'Run the command again and confirm, or add --yes where your policy allows it.',
    exit: [9],
  },
  {
    code: 'interrupted',
    kind: 'error',
    title: 'interrupted',
    meaning: 'The command was stopped (Ctrl-C, or the capture page was closed or cancelled).',
    hint: 'The message says what may still be running at Smile ID and how to resume.',
    exit: [130],
  },
  {
    code: 'internal',
    kind: 'error',
    title: 'unexpected error (a bug)',
    meaning: 'smile met an error it does not know: a bug in smile.',
    hint: 'Run the same command again with --debug and report the output (the API key is redacted).',
    exit: [1],
  },
  {
    code: 'unknown_code',
    kind: 'error',
    title: 'unknown code',
    meaning: '`smile explain` was given a code smile does not know, or a number that is not an exit code of smile.',
    hint: 'Check the spelling ("did you mean" lists close codes); `smile help exit-codes` lists the exit codes.',
    exit: [2],
  },

  // Credentials and configuration.
  {
    code: 'no_credentials',
    kind: 'error',
    title: 'no credentials',
    meaning:
      'No profile is in use and SMILE_PARTNER_ID / SMILE_API_KEY are not set: either no profile is configured, or profiles exist but none is current (a production profile never becomes current by itself).',
    hint: 'Add one with `smile profile add NAME --partner-id ID --env sandbox`, name one with --profile NAME or `smile profile use NAME`, set SMILE_PARTNER_ID and SMILE_API_KEY (or SMILE_API_KEY_FILE), or pass --emulator.',
    exit: [3],
  },
  {
    code: 'no_api_key',
    kind: 'error',
    title: 'no API key',
    meaning:
      'A partner id is known (SMILE_PARTNER_ID, or the profile) but no API key: none is stored for the profile and SMILE_API_KEY / SMILE_API_KEY_FILE are not set.',
    hint: 'Store it with `smile profile add NAME --partner-id ID --env sandbox --force`, or set SMILE_API_KEY or SMILE_API_KEY_FILE.',
    exit: [3],
  },
  {
    code: 'no_partner_id',
    kind: 'error',
    title: 'no partner id',
    meaning: 'SMILE_API_KEY is set but SMILE_PARTNER_ID is not, and no profile is in use.',
    hint: 'Set SMILE_PARTNER_ID (the partner id that goes with the key), or add a profile with `smile profile add`.',
    exit: [3],
  },
  {
    code: 'partner_id_mismatch',
    kind: 'error',
    title: 'SMILE_PARTNER_ID differs from the profile',
    meaning:
      "SMILE_PARTNER_ID names another partner than the profile whose stored API key would be used: the key signs for the profile's partner only.",
    hint: 'Set SMILE_API_KEY (or SMILE_API_KEY_FILE) for that partner too, or unset SMILE_PARTNER_ID to use the profile.',
    exit: [3],
  },
  {
    code: 'unknown_profile',
    kind: 'error',
    title: 'unknown profile',
    meaning: 'The profile named by --profile, SMILE_PROFILE or the command is not configured.',
    hint: '`smile profile list` shows the known ones; add one with `smile profile add NAME --partner-id ID --env sandbox`.',
    exit: [3],
  },
  {
    code: 'profile_exists',
    kind: 'error',
    title: 'profile already exists',
    meaning: '`smile profile add` was given the name of a profile that exists; its key is left as it is.',
    hint: 'Pass --force to replace it, or remove it first with `smile profile remove NAME`.',
    exit: [2],
  },
  {
    code: 'bad_profile_name',
    kind: 'error',
    title: 'invalid profile name',
    meaning: 'A profile name must be 1 to 64 letters, digits, ".", "_" or "-" (and not ".", "..", "__proto__" …).',
    hint: 'Use a name such as sandbox or acme-prod.',
    exit: [2],
  },
  {
    code: 'bad_partner_id',
    kind: 'error',
    title: 'invalid partner id',
    meaning:
      'The partner id is empty, not 1 to 64 letters, digits, "_" or "-", or (in a file) a number, which would lose its leading zeros.',
    hint: 'Give the partner id as the Smile ID portal shows it, e.g. --partner-id 085 (quoted as text in JSON).',
    exit: [2],
  },
  {
    code: 'bad_environment',
    kind: 'error',
    title: 'invalid environment',
    meaning: '--env or SMILE_ENV is neither sandbox nor production.',
    hint: 'Pass --env sandbox or --env production (SMILE_ENV=sandbox …).',
    exit: [2],
  },
  {
    code: 'bad_url',
    kind: 'error',
    title: 'base URL with a query or fragment',
    meaning:
      'The base URL (--base-url, SMILE_BASE_URL or the profile) has a query string or fragment; request paths are appended to it.',
    hint: 'Give the v1 base only, e.g. --base-url https://testapi.smileidentity.com/v1.',
    exit: [2],
  },
  {
    code: 'insecure_url',
    kind: 'error',
    title: 'base URL refused',
    meaning:
      'The base URL is not a valid absolute URL, is not http(s), holds a user name or password, or uses plain http in production or for a host that is not loopback (localhost, 127.0.0.0/8, ::1).',
    hint: 'Use https, e.g. --base-url https://testapi.smileidentity.com/v1; plain http only for the local emulator.',
    exit: [2],
  },
  {
    code: 'insecure_callback_url',
    kind: 'error',
    title: 'callback URL refused',
    meaning:
      "The callback URL (--callback-url, SMILE_CALLBACK_URL, the profile or a bulk row's callback_url) is not a valid absolute http(s) URL, holds a user name or password, or uses plain http in production. In bulk it is the reason of the row.",
    hint: 'Use an https callback URL (plain http is accepted in sandbox only).',
    exit: [2, 4, 6],
  },
  {
    code: 'empty_api_key',
    kind: 'error',
    title: 'empty API key',
    meaning:
      'The API key given is empty: the key typed or piped (--api-key-file -), the file of --api-key-file or SMILE_API_KEY_FILE, or SMILE_API_KEY.',
    hint: 'Put the API key from the Smile ID portal there, e.g. `printf %s "$KEY" | smile profile add NAME --partner-id ID --env sandbox --api-key-file -`.',
    exit: [2, 3],
  },
  {
    code: 'bad_api_key',
    kind: 'error',
    title: 'API key with spaces or control characters',
    meaning: 'The API key has whitespace or control characters inside it: an API key is one line.',
    hint: 'Check that the file, variable or input holds only the key.',
    exit: [2, 3],
  },
  {
    code: 'bad_api_key_file',
    kind: 'error',
    title: 'API key file cannot be used',
    meaning:
      'The file of --api-key-file or SMILE_API_KEY_FILE is a directory or not a regular file (a pipe, a device), cannot be read, or is larger than 16 KiB; or stdin (--api-key-file -) holds more than that.',
    hint: 'Point it at a regular file that holds only the API key (mode 0600).',
    exit: [2, 3],
  },
  {
    code: 'bad_credential_store',
    kind: 'error',
    title: 'invalid SMILE_CREDENTIAL_STORE',
    meaning: 'SMILE_CREDENTIAL_STORE is not auto, keyring or file.',
    hint: 'Set SMILE_CREDENTIAL_STORE=auto (the OS keyring when one answers, else the file), keyring or file.',
    exit: [2],
  },
  {
    code: 'keyring_unavailable',
    kind: 'error',
    title: 'OS keyring cannot be used',
    meaning:
      'The OS keyring cannot be used: SMILE_CREDENTIAL_STORE=keyring and no keyring answers, or reading or removing a key kept there failed (a locked keyring, no keyring service).',
    hint: 'Unlock or start the keyring (on Linux a Secret Service such as gnome-keyring), or set SMILE_CREDENTIAL_STORE=file, or SMILE_API_KEY_FILE to a file holding the key.',
    exit: [3],
  },
  {
    code: 'credentials_invalid',
    kind: 'error',
    title: 'credentials file damaged',
    meaning: 'credentials.json in the config directory is not valid JSON or not the shape smile writes.',
    hint: 'Fix or delete it, then store the key again with `smile profile add NAME --partner-id ID --env sandbox --force`.',
    exit: [3],
  },
  {
    code: 'credentials_unreadable',
    kind: 'error',
    title: 'credentials file cannot be read',
    meaning: 'credentials.json cannot be read (permissions, a disk error), or it is not a regular file.',
    hint: 'Check its owner and permissions (yours, mode 0600), or remove it and add the profile again.',
    exit: [3],
  },
  {
    code: 'config_invalid',
    kind: 'error',
    title: 'config file damaged',
    meaning: 'config.json is not valid JSON, or a profile in it has the wrong types, partner id or environment.',
    hint: 'Fix the file by hand, or add the profile again with `smile profile add NAME … --force` (or remove it with `smile profile remove NAME`).',
    exit: [3],
  },
  {
    code: 'config_unreadable',
    kind: 'error',
    title: 'config file cannot be read',
    meaning: 'config.json exists but cannot be read (permissions, a disk error).',
    hint: "Check the file's owner and permissions, or point SMILE_CONFIG_DIR at another directory.",
    exit: [3],
  },
  {
    code: 'confirmation_required',
    kind: 'error',
    title: 'confirmation needed',
    meaning:
      'A step that needs a yes was run without an interactive terminal (or with --json, or rows on stdin): `smile bulk` in production, `report --html-thumbnails` for production, `profile show --show-key`.',
    hint: 'Add --yes where your policy allows it (bulk, report thumbnails), or run it in a terminal (--show-key has no --yes).',
    exit: [2],
  },

  // Talking to Smile ID.
  {
    code: 'network',
    kind: 'error',
    title: 'network failure',
    meaning:
      'The request failed in the network (DNS, refused or reset connection, TLS) after every retry allowed, or on a request that is not retried.',
    hint: 'Check your network and that the host is reachable (`smile doctor`), then run the same command again.',
    exit: [5],
  },
  {
    code: 'timeout',
    kind: 'error',
    title: 'no answer in time',
    meaning: 'The server did not answer a request in time, after every retry allowed.',
    hint: 'Check your network and the host (`smile doctor`), then run the same command again.',
    exit: [5],
  },
  {
    code: 'deadline',
    kind: 'error',
    title: '--timeout ran out',
    meaning:
      "The command's --timeout ran out: before anything was sent (nothing was sent), before the upload was known to have landed (the job may exist without its selfie), or before job_status answered.",
    hint: 'Run again with a longer --timeout, or check your network (`smile doctor`); after an upload, check the job with the `smile status …` command the message names before registering again.',
    exit: [5],
  },
  {
    code: 'http_NNN',
    kind: 'error',
    title: 'HTTP status without a Smile ID code',
    meaning:
      'The server answered HTTP NNN with no Smile ID error code in its body (http_401, http_404, http_503 …). 401 and 403 are an auth failure (exit 3); 404 means the endpoint is not there; a refused zip upload is an http_ code too. 408, 429 and 5xx were retried first (up to --max-attempts in bulk).',
    hint: '401/403: check the API key, partner id and environment (`smile doctor`). 404: check --base-url, the v1 base including /v1. Others: try again later; --debug shows the answer.',
    exit: [3, 5],
  },
  {
    code: 'bad_response',
    kind: 'error',
    title: 'unusable answer',
    meaning:
      'The job status answer was not JSON, or the job status or prep upload answer had fields without their documented types: nothing was taken from it.',
    hint: 'Something between you and Smile ID changed the answer, or --base-url is not a Smile ID v1 API: check the URL and any proxy (`smile doctor`); --debug shows the answer.',
    exit: [5],
  },
  {
    code: 'bad_signature',
    kind: 'error',
    title: 'not signed with your key',
    meaning:
      'A job status answer, or a callback body given to `smile callback verify`, is not signed with the API key in use, so it was not believed.',
    hint: "job status: check --base-url and any proxy (`smile doctor` checks a signed round trip). callback verify: check that the profile and environment are the job's (sandbox and production keys differ); if they are, the body did not come from Smile ID.",
    exit: [3],
  },
  {
    code: 'stale_signature',
    kind: 'error',
    title: 'signed too long ago',
    meaning:
      "Signed correctly, but too old: a job status answer signed more than 15 minutes from this machine's clock (or at a timestamp that is not a time), or a callback body (`smile callback verify`) signed longer ago than --max-age (default 1h). A replay looks like this, and so does a clock that is off.",
    hint: "job status: check this machine's clock (`smile doctor` shows its skew), then run the same command again. callback verify: for a body saved earlier, widen the window with --max-age (the message gives the value).",
    exit: [3],
  },
  {
    code: 'future_signature',
    kind: 'error',
    title: 'callback signed in the future',
    meaning:
      "`smile callback verify`: the body is signed further in the future than allowed: this machine's clock or the sender's is wrong.",
    hint: "Check this machine's clock (`smile doctor` compares it with Smile ID's).",
    exit: [3],
  },
  {
    code: 'bad_timestamp',
    kind: 'error',
    title: 'callback timestamp is not a time',
    meaning: '`smile callback verify`: the signed timestamp of the body is not a time, so its age cannot be checked.',
    hint: 'Smile ID signs an ISO 8601 time: this body did not come from it, or was changed.',
    exit: [3],
  },
  {
    code: 'missing_signature',
    kind: 'error',
    title: 'callback without signature',
    meaning:
      '`smile callback verify`: the body has no signature or no timestamp, so it cannot be shown to come from Smile ID.',
    hint: 'Smile ID signs every callback: pass the body exactly as it was POSTed; one without them did not come from Smile ID (or was cut).',
    exit: [3],
  },
  {
    code: 'not_json',
    kind: 'error',
    title: 'callback body is not JSON',
    meaning: '`smile callback verify`: the body is not JSON.',
    hint: 'Pass the JSON body exactly as Smile ID POSTed it (a file, or - for stdin).',
    exit: [4],
  },
  {
    code: 'not_object',
    kind: 'error',
    title: 'callback body is not an object',
    meaning:
      '`smile callback verify`: the body is JSON but not an object (a callback is the result object plus timestamp and signature).',
    hint: 'Pass the JSON body exactly as Smile ID POSTed it (a file, or - for stdin).',
    exit: [4],
  },
  {
    code: 'redirect',
    kind: 'error',
    title: 'redirect refused',
    meaning:
      'A request was answered with a redirect: smile never sends a signed request or the selfie zip on to another address.',
    hint: "Give --base-url as the API's own v1 address (not one that redirects); if a proxy redirects, go around it.",
    exit: [5],
  },
  {
    code: 'response_too_large',
    kind: 'error',
    title: 'answer too large',
    meaning:
      "An answer was larger than smile's limit for it (job_status 4 MiB, prep upload and the zip upload's answer 64 KiB): reading stopped there.",
    hint: 'Something between you and Smile ID (a proxy, or a --base-url that is not Smile ID) sends a broken answer: check the URL and any proxy (`smile doctor`).',
    exit: [5],
  },
  {
    code: 'history_empty',
    kind: 'error',
    title: 'no registration to resume',
    meaning: '`smile status --last` found the local history empty.',
    hint: '`smile register` records each registration it sends (not --emulator or bulk runs); otherwise pass --user-id and --job-id.',
    exit: [2],
  },
  {
    code: 'history_other_server',
    kind: 'error',
    title: 'last registration went to another server',
    meaning: '`smile status --last`: the newest registration was sent to another host than this command would ask.',
    hint: 'Ask the server it was sent to with --profile, --env or --base-url (the message names the command).',
    exit: [2],
  },

  // Selfies and capture.
  {
    code: 'selfie_invalid',
    kind: 'error',
    title: 'selfie failed its checks',
    meaning: 'A selfie or liveness frame failed its checks; nothing was sent.',
    hint: 'Run `smile selfie check FILE` for every finding; fix or replace the image and run again.',
    exit: [4],
  },
  {
    code: 'capture_timeout',
    kind: 'error',
    title: 'no selfie captured in time',
    meaning: 'With --capture, no selfie was taken in the browser within --capture-timeout: nothing was sent.',
    hint: 'Run it again and take the selfie, give more time with --capture-timeout, or pass --selfie FILE.',
    exit: [4],
  },
  {
    code: 'liveness_frame_count',
    kind: 'warning',
    title: 'unusual number of liveness frames',
    meaning:
      "The registration has liveness frames, but not 6 to 8 (what Smile ID's mobile SDKs send); they are sent as given.",
    hint: 'Pass 6 to 8 frames with --liveness (bulk: the liveness column), or none.',
    exit: [],
  },
  {
    code: 'altitude_not_sent',
    kind: 'warning',
    title: 'altitude not sent',
    meaning:
      "An altitude was given (--geo lat,lon,alt or the altitude column) but is not sent: Smile ID's clients send latitude and longitude only.",
    hint: 'Nothing to do; leave the altitude out to drop the warning.',
    exit: [],
  },

  // smile bulk: the input, the journal, the rows.
  {
    code: 'input_unreadable',
    kind: 'error',
    title: 'input file cannot be read',
    meaning: 'The bulk input file does not exist, cannot be read, or is not a file.',
    hint: 'Pass the path of a CSV (with a header) or JSONL file, or - to read stdin.',
    exit: [4],
  },
  {
    code: 'no_rows',
    kind: 'error',
    title: 'no rows',
    meaning: 'The bulk input has no rows (a CSV: none under its header).',
    hint: 'Add one line per person to register (user_id, selfie, …).',
    exit: [4],
  },
  {
    code: 'no_header',
    kind: 'error',
    title: 'CSV without a header',
    meaning: 'The CSV is empty or its first line cannot be read as a header.',
    hint: 'The first line must name the columns, e.g. user_id,selfie (see `smile bulk --help`).',
    exit: [4],
  },
  {
    code: 'no_user_id_column',
    kind: 'error',
    title: 'no user_id column',
    meaning: 'The CSV header has no user_id column.',
    hint: 'Name the columns on the first line, e.g. user_id,selfie (see `smile bulk --help`).',
    exit: [4],
  },
  {
    code: 'duplicate_column',
    kind: 'error',
    title: 'column named twice',
    meaning: 'A column name appears twice in the CSV header.',
    hint: 'Keep one column of each name.',
    exit: [4],
  },
  {
    code: 'shard_index_missing',
    kind: 'error',
    title: 'JOB_COMPLETION_INDEX not set',
    meaning: '--shard auto/N (or SMILE_SHARD) reads the shard from JOB_COMPLETION_INDEX, which is not set.',
    hint: 'Kubernetes sets it in each pod of a Job with completionMode: Indexed; elsewhere pass --shard K/N (1-based).',
    exit: [2],
  },
  {
    code: 'shard_index_invalid',
    kind: 'error',
    title: 'JOB_COMPLETION_INDEX out of range',
    meaning: 'JOB_COMPLETION_INDEX is not a whole number from 0 to N-1 for --shard auto/N.',
    hint: "Make the Job's completions N, the N of auto/N (pods are numbered 0 … N-1).",
    exit: [2],
  },
  {
    code: 'journal_missing',
    kind: 'error',
    title: 'no journal to resume',
    meaning: '--resume was given but there is no journal at the path smile looks at.',
    hint: 'Run without --resume to start, or pass --journal PATH where the earlier run kept it (rows from stdin: pipe exactly the same rows).',
    exit: [2],
  },
  {
    code: 'journal_exists',
    kind: 'error',
    title: 'a journal is already there',
    meaning:
      'A journal exists where this run would start one: of this same input (an unfinished or finished run), or of another input.',
    hint: 'Finish that run with --resume (the message gives the command), or pass --journal NEW to start a separate run.',
    exit: [2],
  },
  {
    code: 'journal_mismatch',
    kind: 'error',
    title: 'journal of another input',
    meaning:
      '--resume: the journal belongs to another input file or --shard, or the input changed since the run started (another user on a line).',
    hint: 'Resume with the same file (and --shard) the run started with; to re-run failed rows use the --rejects file as a new input.',
    exit: [2, 4],
  },
  {
    code: 'journal_damaged',
    kind: 'error',
    title: 'journal damaged',
    meaning: 'The journal has a line that is not JSON, or does not start with the run record smile writes.',
    hint: 'Move it aside and check its rows with `smile status`, or pass --journal NEW to start a separate run.',
    exit: [4],
  },
  {
    code: 'journal_version',
    kind: 'error',
    title: 'journal of another smile version',
    meaning: 'The journal was written by a version of smile with another journal format.',
    hint: 'Finish it with the smile version that started it, or pass --journal NEW.',
    exit: [4],
  },
  {
    code: 'journal_locked',
    kind: 'error',
    title: 'journal in use',
    meaning:
      'Another smile bulk (on this machine, or on another one sharing the file) holds the lock of this journal; two runs on one journal would send rows twice.',
    hint: 'Wait for it to finish (or stop it: the message gives its pid), then run again with --resume. If it is gone for good, remove the lock file the message names.',
    exit: [2],
  },
  {
    code: 'journal_lock_io',
    kind: 'error',
    title: 'lock file cannot be used',
    meaning:
      'The lock file beside the journal (or the emulator state file) cannot be created or read, or other processes keep taking it over.',
    hint: 'The directory must exist and be writable; make sure one run at a time uses the file, then run again.',
    exit: [5],
  },
  {
    code: 'journal_write',
    kind: 'error',
    title: 'journal cannot be written',
    meaning:
      'The journal, or the directory for the journal of rows from stdin, cannot be written (disk full, permissions).',
    hint: 'Free disk space or fix the permissions, then finish the run with --resume (no row is sent twice); for stdin set SMILE_CONFIG_DIR or pass --journal PATH.',
    exit: [5],
  },
  {
    code: 'report_write',
    kind: 'error',
    title: 'report file cannot be written',
    meaning: 'The --report file cannot be opened or written.',
    hint: 'Pick a --report path in a directory you can write to, or free disk space, then run again with --resume: the journal rebuilds it.',
    exit: [5],
  },
  {
    code: 'rejects_write',
    kind: 'error',
    title: 'rejects file cannot be written',
    meaning: 'The --rejects file cannot be opened or written.',
    hint: 'Pick a --rejects path in a directory you can write to, or free disk space, then run again with --resume.',
    exit: [5],
  },
  {
    code: 'html_write',
    kind: 'error',
    title: 'HTML report cannot be written',
    meaning: 'The --html report cannot be opened or written.',
    hint: 'Pick an --html path you can write to, or free disk space; make it again from the journal with `smile report JOURNAL --html PATH`.',
    exit: [5],
  },
  {
    code: 'state_file_locked',
    kind: 'error',
    title: 'emulator state file in use',
    meaning:
      'Another smile emulator holds the lock of this --state-file: two emulators on one state file would interleave their changes.',
    hint: 'Stop the other emulator (the message gives its pid), then start the emulator again; or pass another --state-file.',
    exit: [2],
  },
  {
    code: 'emulator_state_write',
    kind: 'error',
    title: 'emulator state file cannot be written',
    meaning: 'smile emulator could not write its --state-file (at start or stop): disk full, permissions.',
    hint: 'Free disk space or fix the permissions, or pass another --state-file.',
    exit: [5],
  },
  {
    code: 'invalid_row',
    kind: 'row',
    title: 'invalid row',
    meaning: `A value in the row is not valid (a boolean that is not true/false, a param that is not text, geo or sandbox_result that cannot be read …). ${ROW_EFFECT}`,
    hint: FIX_ROW,
    exit: ROW_EXIT,
  },
  {
    code: 'unreadable_row',
    kind: 'row',
    title: 'row cannot be read',
    meaning: `The line cannot be read as a row: a quoted field left open, more or fewer fields than the header, a JSONL line that is not a JSON object, or a line longer than 1 MiB. ${ROW_EFFECT}`,
    hint: FIX_ROW,
    exit: ROW_EXIT,
  },
  {
    code: 'missing_user_id',
    kind: 'row',
    title: 'row without user_id',
    meaning: `The row's user_id is empty. ${ROW_EFFECT}`,
    hint: FIX_ROW,
    exit: ROW_EXIT,
  },
  {
    code: 'duplicate_user_id',
    kind: 'row',
    title: 'user_id twice in the file',
    meaning: `The row's user_id is also on an earlier line: one registration per user per file. ${ROW_EFFECT}`,
    hint: 'Keep one row per user_id in a file.',
    exit: ROW_EXIT,
  },
  {
    code: 'missing_selfie',
    kind: 'row',
    title: 'row without selfie',
    meaning: `The row's selfie is empty (use_enrolled_image too needs the new selfie). ${ROW_EFFECT}`,
    hint: 'Give the path of the image, relative to the input file, in the selfie column.',
    exit: ROW_EXIT,
  },
  {
    code: 'selfie_missing',
    kind: 'row',
    title: 'selfie file not found',
    meaning: `The selfie or a liveness frame of the row does not exist, cannot be reached or is not a file. ${ROW_EFFECT}`,
    hint: 'Paths in the input are relative to the input file; check the path and its permissions.',
    exit: ROW_EXIT,
  },
  {
    code: 'invalid_geo',
    kind: 'row',
    title: 'latitude without longitude',
    meaning: `The row has latitude or longitude without the other (altitude is optional). ${ROW_EFFECT}`,
    hint: 'Fill in both latitude and longitude, or neither.',
    exit: ROW_EXIT,
  },
  {
    code: 'sandbox_result_in_production',
    kind: 'row',
    title: 'sandbox_result in production',
    meaning: `The row has sandbox_result, which only steers sandbox results, and the run is in production. ${ROW_EFFECT}`,
    hint: 'Empty the sandbox_result column for a production run.',
    exit: ROW_EXIT,
  },
  {
    code: 'not_utf8',
    kind: 'row',
    title: 'not UTF-8',
    meaning: `A value of the row is not valid UTF-8 text. ${ROW_EFFECT}`,
    hint: 'Save the input file as UTF-8.',
    exit: ROW_EXIT,
  },
  {
    code: 'control_characters',
    kind: 'row',
    title: 'control characters in a value',
    meaning: `A value of the row holds control characters (terminal escapes, NUL, bidi overrides). ${ROW_EFFECT}`,
    hint: 'Remove them (the message shows them as escapes).',
    exit: ROW_EXIT,
  },
  {
    code: 'stray_quote',
    kind: 'row',
    title: 'stray quote',
    meaning: `A stray " made several CSV lines one row (the message names the lines swallowed). ${ROW_EFFECT}`,
    hint: 'Fix the quote and run those lines again.',
    exit: ROW_EXIT,
  },

  // smile report, callback verify / listen.
  {
    code: 'no_such_file',
    kind: 'error',
    title: 'no such file',
    meaning: '`smile report` was given a journal, --report or --input file that does not exist.',
    hint: 'Check the path; pass the files of the same run.',
    exit: [4],
  },
  {
    code: 'not_a_file',
    kind: 'error',
    title: 'not a file',
    meaning:
      'A file named on the command line (`smile report`, `smile callback verify`) is a directory or another kind of non-file.',
    hint: 'Pass the file itself (callback verify: the body, or - for stdin).',
    exit: [4],
  },
  {
    code: 'unreadable',
    kind: 'error',
    title: 'file cannot be read',
    meaning:
      'A file named on the command line (`smile report`, `smile callback verify`) cannot be read (permissions, a disk error).',
    hint: 'Check the path and its permissions.',
    exit: [4],
  },
  {
    code: 'not_a_journal',
    kind: 'error',
    title: 'not a bulk journal',
    meaning: '`smile report` was given a file that does not start with the run record of a smile bulk journal.',
    hint: 'Pass the .journal file smile bulk wrote (beside the input, or its --journal).',
    exit: [4],
  },
  {
    code: 'report_damaged',
    kind: 'error',
    title: 'not a bulk report',
    meaning: '`smile report --report`: a JSONL line is not JSON, or the CSV header has no line/outcome column.',
    hint: 'Pass the --report file smile bulk wrote (.csv or .jsonl), or leave --report out.',
    exit: [4],
  },
  {
    code: 'too_large',
    kind: 'error',
    title: 'callback body too large',
    meaning: '`smile callback verify`: the file or stdin holds more than 2 MB, which is not a callback body.',
    hint: 'Pass the file holding the callback body only.',
    exit: [4],
  },
  {
    code: 'unwritable',
    kind: 'error',
    title: '--out cannot be written',
    meaning: '`smile callback listen`: --out is a named pipe, directory or socket, or cannot be opened for appending.',
    hint: 'Pass an --out path for a JSONL file in a directory you can write to; to follow results live, tail -f that file.',
    exit: [4],
  },
  {
    code: 'store_failed',
    kind: 'error',
    title: 'callback results cannot be stored',
    meaning:
      '`smile callback listen` stopped: a verified result could not be written to --out; it was answered 503 so that Smile ID sends it again.',
    hint: 'Fix the file (or pass another --out) and start smile callback listen again; a result not sent again can be read with `smile status`.',
    exit: [5],
  },

  // --jq / --query.
  {
    code: 'bad_filter',
    kind: 'error',
    title: 'filter does not compile',
    meaning: 'The --jq or --query expression does not compile; the command did not run.',
    hint: 'Fix the expression: jq syntax as in `gh --jq` (--jq .outcome), JMESPath as in `aws --query` (--query outcome).',
    exit: [2],
  },
  {
    code: 'filter_failed',
    kind: 'error',
    title: 'filter failed on the result',
    meaning:
      'The --jq or --query expression failed on the result document; the command itself ran (the message says with which exit).',
    hint: 'Print the whole document with --json to see its shape, then fix the expression.',
    exit: [2],
  },
];

const byCode = new Map(table.map((info) => [info.code.toLowerCase(), info]));

/** Every entry, in table order (completion, "did you mean"). */
export function smileCodes(): readonly SmileCodeInfo[] {
  return table;
}

/**
 * The entry for `code` (case-insensitive, `-` read as `_`): exact, `http_NNN` for any 3-digit status,
 * and `selfie_<check>` (smile selfie prepare) in the words of the check (finding-info.ts).
 */
export function findSmileCode(code: string): SmileCodeInfo | undefined {
  const wanted = code.trim().toLowerCase().replace(/-/g, '_');
  const exact = byCode.get(wanted);
  if (exact) return exact;
  const http = /^http_(\d{3})$/.exec(wanted);
  if (http) {
    const generic = byCode.get('http_nnn')!;
    return { ...generic, code: wanted, meaning: generic.meaning.replace('HTTP NNN', `HTTP ${http[1]!}`) };
  }
  const selfie = /^selfie_([a-z_]+)$/.exec(wanted);
  const check = selfie ? findFinding(selfie[1]!) : undefined;
  if (check && check.severity === 'error')
    return {
      code: wanted,
      kind: 'error',
      title: `selfie failed the check ${check.code}: ${check.title}`,
      meaning: `\`smile selfie prepare\` refused the image: ${check.meaning} Nothing was written.`,
      hint: check.hint,
      exit: [4],
    };
  return undefined;
}
