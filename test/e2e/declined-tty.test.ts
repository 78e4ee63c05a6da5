import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/child-env.js';
import { runInPty } from '../helpers/pty.js';
import { until } from '../helpers/wait-for.js';

const ROOT = resolve(import.meta.dirname, '../..');

let home: string;
let csv: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-declined-'));
  csv = join(home, 'users.csv');
  await writeFile(csv, `user_id,selfie\np-1,${join(ROOT, 'fixtures/selfies/demo.jpg')}\n`);
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Production credentials; nothing listens on the base URL (port 9): a sent request would fail with exit 5. */
const production = () =>
  childEnv(home, {
    SMILE_CONFIG_DIR: join(home, 'config'),
    SMILE_ENV: 'production',
    SMILE_BASE_URL: 'https://127.0.0.1:9/v1',
    SMILE_PARTNER_ID: '085',
    SMILE_API_KEY: 'test-key',
    TERM: 'xterm',
  });

/**
 * `smile bulk` in production on a real terminal; `answer` is typed once the prompt is on screen.
 * Nothing listens on the base URL (port 9): a sent request would fail with exit 5, not 9 or 130.
 */
async function answerPrompt(answer: string): Promise<{ code: number | null; screen: string }> {
  const run = runInPty(['bulk', csv], production());
  await until(
    () => (/\[y\/N\] /.test(run.screen()) ? true : undefined),
    () => `the prompt; screen: ${run.screen()}`,
  );
  run.type(answer);
  const code = await run.exited;
  return { code, screen: run.screen() };
}

describe('declining the production confirmation of smile bulk (real TTY)', () => {
  it('answering no exits 9 with "nothing was sent", not 130', async () => {
    const { code, screen } = await answerPrompt('n\r');
    expect(screen).toMatch(/Register 1 row in PRODUCTION for partner 085\? \[y\/N\]/);
    expect(screen).toMatch(/Cancelled: nothing was sent/);
    expect(code).toBe(9);
  });

  it('Ctrl-C at the prompt is an interruption: exit 130', async () => {
    const { code, screen } = await answerPrompt('\x03');
    expect(code).toBe(130);
    expect(screen).not.toMatch(/Cancelled: nothing was sent/);
  });
});

describe('the guided register form in production (real TTY)', () => {
  const form = () => runInPty(['register'], production());
  const shows = (run: ReturnType<typeof form>, pattern: RegExp) =>
    until(
      () => (pattern.test(run.screen()) ? true : undefined),
      () => `${pattern}; screen: ${run.screen()}`,
    );

  it('"n" at "Send to PRODUCTION?" exits 9: nothing was sent', { timeout: 60_000 }, async () => {
    const run = form();
    await shows(run, /User ID/i);
    run.type('p-1\r');
    await shows(run, /Selfie/);
    run.type(`${join(ROOT, 'fixtures/selfies/demo.jpg')}\r`);
    await shows(run, /Replace the selfie/);
    run.type('n');
    await shows(run, /Send to PRODUCTION/);
    run.type('n');
    expect(await run.exited).toBe(9);
    expect(run.screen()).toMatch(/Cancelled: nothing was sent/);
  });

  it('Ctrl-C in the form exits 130', { timeout: 60_000 }, async () => {
    const run = form();
    await shows(run, /User ID/i);
    run.type('\x03');
    expect(await run.exited).toBe(130);
    expect(run.screen()).toMatch(/Interrupted: nothing was sent/);
  });
});
