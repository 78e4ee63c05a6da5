import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

/** A fresh directory under the OS temp dir, removed after each test. */
export async function tempDir(prefix = 'smile-config-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** The error a promise rejects with; fails when it resolves. */
export async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Whether any part of an error (message, hint, details, code, stack, cause) contains the secret. */
export function leaks(error: unknown, secret: string): boolean {
  const e = error as {
    message?: string;
    hint?: string;
    details?: unknown;
    code?: string;
    stack?: string;
    cause?: unknown;
  };
  return [e.message, e.hint, JSON.stringify(e.details ?? null), e.code, e.stack, String(e.cause ?? '')].some((text) =>
    text?.includes(secret),
  );
}
