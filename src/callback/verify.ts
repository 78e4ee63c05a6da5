/**
 * `smile callback verify`: a callback body from a file or stdin, verified offline with this
 * machine's key, read as the registration document `register --json` prints. Never touches the
 * network.
 */
import type { CliIo } from '../context.js';
import { AuthError, InputError, UsageError } from '../errors.js';
import { readLimited } from '../http/read-limited.js';
import { shellQuote } from '../output/shell.js';
import { renderResultText } from '../output/result-text.js';
import { registrationDocument } from '../register/document.js';
import type { RegistrationDocument } from '../register/document.js';
import {
  MAX_CALLBACK_BYTES,
  callbackWindow,
  describeCallbackStage,
  maxAgeCovering,
  verifyCallbackBody,
} from '../smile/callback.js';
import type { CallbackVerdict, VerifiedCallback } from '../smile/callback.js';
import type { JobStatusResponse } from '../smile/types.js';
import { callbackKey } from './key.js';
import type { CallbackKey, CallbackKeyHost } from './key.js';

/** A verified callback as JSON: register's document, and when it was signed. */
export interface CallbackDocument extends RegistrationDocument {
  signature_verified: true;
  timestamp: string;
}

/** The registration document of a verified callback, as job_status of the same moment would give it. */
export function callbackDocument(verified: VerifiedCallback, key: CallbackKey): CallbackDocument {
  const { outcome, timestamp, result } = verified;
  const status: JobStatusResponse = {
    timestamp,
    signature: '',
    job_complete: true,
    job_success: verified.jobSuccess,
    code: '',
    result,
  };
  return {
    ...registrationDocument({
      outcome,
      environment: key.environment,
      userId: verified.userId ?? '',
      jobId: verified.jobId ?? '',
      smileJobId: verified.smileJobId,
      status,
    }),
    signature_verified: true,
    timestamp,
  };
}

export interface CallbackVerification {
  key: CallbackKey;
  verified: VerifiedCallback;
  document: CallbackDocument;
}

/**
 * Read the body (`-`: stdin), then verify it with the key of the run's settings inside the window
 * (`maxAgeMs`: --max-age). A body that is not verified is an error (exit 3 or 4), never a result.
 */
export async function verifyCallbackInput(
  file: string,
  host: CallbackKeyHost & { stdin: CliIo['stdin'] },
  options: { maxAgeMs?: number | undefined } = {},
): Promise<CallbackVerification> {
  const text = await readCallbackInput(file, host.stdin);
  const key = await callbackKey(host);
  const verdict = verifyCallbackBody(text, key, callbackWindow(options.maxAgeMs));
  if (!verdict.ok) throw refusal(verdict, key, file);
  return { key, verified: verdict, document: callbackDocument(verdict, key) };
}

/** The human rendering: register's card, then how the callback was verified. */
export function renderCallbackVerification(
  { key, verified, document }: CallbackVerification,
  options: { color: boolean },
): string {
  const card = renderResultText(document, { color: options.color, environmentLabel: key.label });
  return `${card}\n  ${'callback'.padEnd(9)} signature verified (partner ${key.partnerId}, signed ${verified.timestamp}) · ${describeCallbackStage(verified.result)}`;
}

async function readCallbackInput(file: string, stdin: CliIo['stdin']): Promise<string> {
  if (file === '-') {
    if (stdin.isTTY)
      throw new UsageError('callback verify - reads the body from stdin, but stdin is a terminal.', {
        hint: 'Pipe the body in (`pbpaste | smile callback verify -`), or pass the file holding it.',
      });
    const body = await readLimited(stdin as AsyncIterable<Buffer | string>, MAX_CALLBACK_BYTES, { overflow: 'stop' });
    if (body.tooLarge)
      throw new InputError(`stdin holds more than ${MAX_CALLBACK_BYTES / 1024 / 1024} MB: not a callback body.`, {
        code: 'too_large',
      });
    return body.bytes.toString('utf8');
  }
  const { promises: fs } = await import('node:fs');
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile())
      throw new InputError(`${file} is not a file.`, {
        code: 'not_a_file',
        hint: 'Pass the file holding the callback body, or - for stdin.',
      });
    if (stat.size > MAX_CALLBACK_BYTES)
      throw new InputError(`${file} is larger than ${MAX_CALLBACK_BYTES / 1024 / 1024} MB: not a callback body.`, {
        code: 'too_large',
      });
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'read error')}.`, {
      code: 'unreadable',
      hint: 'Pass the file holding the callback body, or - for stdin.',
    });
  }
}

function refusal(
  verdict: Extract<CallbackVerdict, { ok: false }>,
  key: CallbackKey,
  file: string,
): AuthError | InputError {
  if (verdict.reason === 'not_json' || verdict.reason === 'not_object') {
    return new InputError(`Not a callback body: ${verdict.message}.`, {
      code: verdict.reason,
      hint: 'Pass the JSON body exactly as Smile ID POSTed it (a file, or - for stdin).',
    });
  }
  if (
    verdict.reason === 'stale_signature' ||
    verdict.reason === 'future_signature' ||
    verdict.reason === 'bad_timestamp'
  ) {
    const hint =
      verdict.reason === 'stale_signature' && verdict.ageMs !== undefined
        ? `An old signature is what a replayed body looks like. If you saved this body earlier and check it now, widen the window: smile callback verify ${file === '-' ? '-' : shellQuote(file)} --max-age ${maxAgeCovering(verdict.ageMs)}`
        : verdict.reason === 'future_signature'
          ? "Check this machine's clock (`smile doctor` compares it with Smile ID's). A body cannot be signed in the future."
          : 'Smile ID signs an ISO 8601 time; this body did not come from it (or was changed).';
    return new AuthError(`The callback is not verified: ${verdict.message}. It is not shown as a result.`, {
      code: verdict.reason,
      hint,
    });
  }
  return new AuthError(`The callback is not verified: ${verdict.message}. It is not shown as a result.`, {
    code: verdict.reason,
    hint:
      verdict.reason === 'missing_signature'
        ? 'Smile ID signs every callback; a body without timestamp and signature did not come from it (or was cut).'
        : `Check that the profile/environment matches the job's (sandbox and production keys differ; now ${key.label}, partner ${key.partnerId}). If they match, the body did not come from Smile ID.`,
  });
}
