/**
 * issue 9 item 5 (callbacks): a signature has an age. A callback signed longer ago than --max-age
 * (default CALLBACK_MAX_AGE_MS) or further ahead than SIGNED_ANSWER_WINDOW_MS is refused by the
 * listener (401, logged) and by `callback verify` (exit 3, naming the age and the flag). A second
 * delivery of the same signed body inside the window is answered 200 and not stored again.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { CALLBACK_MAX_AGE_MS, SIGNED_ANSWER_WINDOW_MS } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';
import { KEY, PARTNER, post, signedCallback, wholeLines } from './callback-listener.js';

const DAY = 24 * 60 * 60_000;
let dir: string;
const env = (): NodeJS.ProcessEnv => ({
  SMILE_PARTNER_ID: PARTNER,
  SMILE_API_KEY: KEY,
  SMILE_CONFIG_DIR: join(dir, 'none'),
});
const ago = (ms: number) => new Date(Date.now() - ms);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-callback-window-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function bodyFile(name: string, body: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(body));
  return file;
}

async function listen(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const controller = new AbortController();
  const done = main(['callback', 'listen', '--port', '0', ...argv], {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env: { NO_COLOR: '1', ...env() },
    signal: controller.signal,
  });
  let url: string | undefined;
  await expect
    .poll(() => (url = /listening on (http:\/\/[^/]+)\//.exec(err)?.[1]) ?? err, { timeout: 5000 })
    .toMatch(/^http:/);
  return {
    url: url!,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      controller.abort();
      return done;
    },
  };
}

describe('callback verify: the signed timestamp has an age', () => {
  it('refuses a 30-day-old callback with exit 3, naming its age and --max-age; --max-age 31d accepts it', async () => {
    const file = await bodyFile('old.json', signedCallback('u-1', 'job-1', { at: ago(30 * DAY) }));
    const human = await runCli(['callback', 'verify', file], { env: env() });
    expect(human.code).toBe(3);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/signed 30 days ago/);
    expect(human.stderr).toMatch(/--max-age 31d/);
    const json = await runCli(['callback', 'verify', file, '--json'], { env: env() });
    expect(json.code).toBe(3);
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'stale_signature' } });

    const widened = await runCli(['callback', 'verify', file, '--max-age', '31d', '--json'], { env: env() });
    expect(widened.code, widened.stderr).toBe(0);
    expect(widened.json()).toMatchObject({ outcome: 'approved', signature_verified: true });
  });

  it('takes one inside the default window, refuses one just past it, and one signed too far in the future', async () => {
    const inside = await runCli(
      [
        'callback',
        'verify',
        await bodyFile('inside.json', signedCallback('u-1', 'job-1', { at: ago(CALLBACK_MAX_AGE_MS - 60_000) })),
      ],
      { env: env() },
    );
    expect(inside.code, inside.stderr).toBe(0);
    const past = await runCli(
      [
        'callback',
        'verify',
        await bodyFile('past.json', signedCallback('u-1', 'job-1', { at: ago(CALLBACK_MAX_AGE_MS + 60_000) })),
      ],
      { env: env() },
    );
    expect(past.code).toBe(3);
    const future = await runCli(
      [
        'callback',
        'verify',
        await bodyFile(
          'future.json',
          signedCallback('u-1', 'job-1', { at: ago(-(SIGNED_ANSWER_WINDOW_MS + 5 * 60_000)) }),
        ),
        '--max-age',
        '30d',
        '--json',
      ],
      { env: env() },
    );
    expect(future.code).toBe(3);
    expect(future.json()).toMatchObject({ ok: false, error: { code: 'future_signature' } });
    expect(JSON.stringify(future.json())).toMatch(/in the future.*clock/);
  });

  it('refuses a --max-age that is not a duration (exit 2) and documents the window in --help', async () => {
    const file = await bodyFile('ok.json', signedCallback('u-1', 'job-1'));
    const bad = await runCli(['callback', 'verify', file, '--max-age', 'forever'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-age takes a duration like .*30d/);
    for (const command of ['verify', 'listen']) {
      const help = await runCli(['callback', command, '--help'], { env: env() });
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--max-age <duration>/);
      expect(help.stdout).toMatch(new RegExp(`default ${CALLBACK_MAX_AGE_MS / 60_000 / 60}h`));
      expect(help.stdout).toMatch(new RegExp(`${SIGNED_ANSWER_WINDOW_MS / 60_000} min in the future`));
    }
  });
});

describe('callback listen: stale, future and repeated deliveries', () => {
  it('answers 401 for a 30-day-old signed callback and stores nothing; --max-age 31d stores it', async () => {
    const out = join(dir, 'stale.jsonl');
    const old = signedCallback('u-1', 'job-old', { at: ago(30 * DAY) });
    const listener = await listen(['--out', out]);
    try {
      const answer = await post(listener.url, old);
      expect(answer.status).toBe(401);
      expect(await answer.json()).toMatchObject({ ok: false, error: expect.stringMatching(/30 days ago/) });
      expect(await readFile(out, 'utf8')).toBe('');
      const future = await post(
        listener.url,
        signedCallback('u-1', 'job-future', { at: ago(-(SIGNED_ANSWER_WINDOW_MS + 5 * 60_000)) }),
      );
      expect(future.status).toBe(401);
      expect(await readFile(out, 'utf8')).toBe('');
    } finally {
      expect(await listener.stop()).toBe(0);
    }
    expect(listener.stdout()).toBe('');
    expect(listener.stderr()).toMatch(/refused POST \/: .*signed 30 days ago.*job job-old.*--max-age/);
    expect(listener.stderr()).toMatch(/stopped: 0 verified results saved .*, 2 refused/);

    const widened = await listen(['--out', out, '--max-age', '31d']);
    try {
      expect((await post(widened.url, old)).status).toBe(200);
    } finally {
      await widened.stop();
    }
    expect(wholeLines(await readFile(out, 'utf8'))).toMatchObject([{ job_id: 'job-old', signature_verified: true }]);
  });

  it('answers a repeated delivery of the same signed body 200 without storing, printing or forwarding it twice', async () => {
    const out = join(dir, 'replay.jsonl');
    const listener = await listen(['--out', out, '--json']);
    const body = JSON.stringify(signedCallback('u-1', 'job-1'));
    try {
      expect((await post(listener.url, body)).status).toBe(200);
      const again = await post(listener.url, body);
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ ok: true, duplicate: true });
      // Same body re-serialised (another key order) is the same delivery.
      const reordered = Object.fromEntries(Object.entries(JSON.parse(body) as Record<string, unknown>).reverse());
      expect((await post(listener.url, reordered)).status).toBe(200);
      // Many at once: stored once.
      const burst = signedCallback('u-2', 'job-2');
      expect(
        (await Promise.all(Array.from({ length: 8 }, () => post(listener.url, burst)))).map((answer) => answer.status),
      ).toEqual(Array(8).fill(200));
    } finally {
      await listener.stop();
    }
    expect(wholeLines(await readFile(out, 'utf8')).map((record) => record['job_id'])).toEqual(['job-1', 'job-2']);
    expect(listener.stdout().trim().split('\n')).toHaveLength(2);
    expect(listener.stderr()).toMatch(/duplicate delivery of job job-1 .*not stored again/);
    expect(listener.stderr()).toMatch(/stopped: 2 verified results saved .*, 0 refused, 9 duplicates/);
  });

  it('keeps two different results signed in the same millisecond (same signature, different bodies)', async () => {
    const out = join(dir, 'same-ms.jsonl');
    const at = new Date();
    const machine = signedCallback('u-1', 'job-1', { at });
    const other = signedCallback('u-2', 'job-2', { at });
    expect(machine['signature']).toBe(other['signature']);
    const listener = await listen(['--out', out]);
    try {
      expect((await post(listener.url, machine)).status).toBe(200);
      expect((await post(listener.url, other)).status).toBe(200);
    } finally {
      await listener.stop();
    }
    expect(wholeLines(await readFile(out, 'utf8')).map((record) => record['job_id'])).toEqual(['job-1', 'job-2']);
  });
});
