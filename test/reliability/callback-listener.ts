/**
 * Helpers for the callback listener's reliability tests: the packaged binary in a child process
 * (`node bin/smile.js callback listen`), and signed callback bodies of a chosen size.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { signedFields } from '../../src/smile/sign.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const KEY = 'callback-reliability-key-7d2e91';
export const PARTNER = '085';

export interface ListenerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has ended (also when it ended by itself). */
  exited: Promise<number | null>;
  /** SIGTERM (as a supervisor stops it), then the exit code. */
  stop(): Promise<number | null>;
}

/** Start `smile callback listen --port 0 …args` as its own process, optionally under a wrapper (prlimit …). */
export async function startListener(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; wrapper?: string[]; configDir: string },
): Promise<ListenerProcess> {
  const command = [
    ...(options.wrapper ?? []),
    process.execPath,
    'bin/smile.js',
    'callback',
    'listen',
    '--port',
    '0',
    ...args,
  ];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'],
      NO_COLOR: '1',
      SMILE_CONFIG_DIR: options.configDir,
      SMILE_PARTNER_ID: PARTNER,
      SMILE_API_KEY: KEY,
      ...options.env,
    },
    stdio: 'pipe',
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  let url: string | undefined;
  await expect
    .poll(
      () => {
        url = /listening on (http:\/\/[^/]+)\//.exec(err)?.[1];
        return url ?? (child.exitCode === null ? 'still starting' : `exited ${child.exitCode}: ${err}`);
      },
      { timeout: 15_000, interval: 50 },
    )
    .toMatch(/^http:/);
  return {
    child,
    url: url!,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

const NA = 'Not Applicable';

/** A job_type 4 approved result for (user, job), signed now (or at `at`), padded so its stored line is about `bytes` long. */
export function signedCallback(
  user: string,
  job: string,
  options: { bytes?: number; at?: Date; key?: string } = {},
): Record<string, unknown> {
  const result: Record<string, unknown> = {
    Actions: {
      Human_Review_Compare: NA,
      Human_Review_Liveness_Check: NA,
      Human_Review_Update_Selfie: NA,
      Liveness_Check: NA,
      Register_Selfie: 'Approved',
      Selfie_Provided: 'Passed',
    },
    ConfidenceValue: '100',
    IsFinalResult: 'true',
    IsMachineResult: 'true',
    JSONVersion: '1.0.0',
    PartnerParams: { job_id: job, user_id: user, job_type: '4' },
    ResultCode: '0810',
    ResultText: 'Enroll User',
    ResultType: 'SAIA',
    SmileJobID: '0000000042',
    Source: 'WebAPI',
  };
  // The stored line carries the result about twice (result + actions are small): pad the result.
  if (options.bytes !== undefined) result['Padding'] = 'p'.repeat(Math.max(0, options.bytes - 1200));
  return { ...result, ...signedFields(options.key ?? KEY, PARTNER, options.at ?? new Date()) };
}

export const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** Every line of a JSONL file parses as an object and the file ends with a newline (no torn record). */
export function wholeLines(text: string): Record<string, unknown>[] {
  if (text === '') return [];
  expect(text.endsWith('\n'), 'the file ends with a newline').toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
