/** Issue 15 item 2: `--jq` (jq) and `--query` (JMESPath) filter the one JSON document on stdout. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { runCli } from '../helpers/run-cli.js';

const SELFIE = 'fixtures/selfies/demo.jpg';
const KEY = 'filter-test-key-5b1e0c9a77';
let dir: string;
let emulator: RunningEmulator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smile-filter-'));
  emulator = await startEmulator({ port: 0, apiKey: KEY, processingMs: 20 });
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return {
    SMILE_PARTNER_ID: '085',
    SMILE_API_KEY: KEY,
    SMILE_BASE_URL: emulator.baseUrl,
    SMILE_CONFIG_DIR: join(dir, 'cfg'),
  };
}

describe('--jq', () => {
  it('implies --json and prints strings raw, like gh --jq', async () => {
    const run = await runCli(['explain', '2205', '--jq', '.title']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('You are not authorized to do that\n');
  });

  it('prints anything else as JSON, and every output of the filter', async () => {
    const run = await runCli(['explain', '2205', '--jq', '{code, final}, .exit']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{\n  "code": "2205",\n  "final": true\n}\nauth\n');
  });

  it('filters a real registration, which keeps its own exit code', async () => {
    const run = await runCli(
      ['register', '--user-id', 'jq-user', '--selfie', SELFIE, '--jq', '[.outcome, .user_id] | join(" ")'],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('approved jq-user\n');
  });

  it('a bad expression is exit 2 before anything is sent, with jq own words', async () => {
    const before = emulator.state.requests.length;
    const run = await runCli(['register', '--user-id', 'jq-bad', '--selfie', SELFIE, '--jq', '.outcome | foo('], {
      env: env(),
    });
    expect(run.code).toBe(2);
    const document = run.json<{ ok: boolean; error: { code: string; message: string } }>();
    expect(document.ok).toBe(false);
    expect(document.error.code).toBe('bad_filter');
    expect(document.error.message).toMatch(/^--jq expression does not compile: jq: error: syntax error/);
    // The message quotes the expression as typed, not smile's wrapping of it.
    expect(document.error.message).not.toContain('if false');
    expect(emulator.state.requests.length).toBe(before);
  });

  it('an unknown function is caught before the command runs too', async () => {
    const run = await runCli(['explain', '2205', '--jq', 'no_such_function(1)']);
    expect(run.code).toBe(2);
    expect(run.json<{ error: { message: string } }>().error.message).toMatch(/no_such_function\/1 is not defined/);
  });

  it('an expression that fails on the document is exit 2 after the command, saying its own exit code', async () => {
    const run = await runCli(['explain', '2205', '--jq', '.title[0]']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--jq failed on the result: jq: error .*Cannot index string with number/);
    expect(run.stderr).toContain('finished with exit 0');
  });

  it('an error document (ok: false) is printed unfiltered, so the script sees the error', async () => {
    const run = await runCli(['explain', 'not-a-code', '--jq', '.title']);
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({ ok: false, error: { code: 'unknown_code' } });
  });

  it('a result that says ok: false (a selfie failing its checks) is still filtered, and keeps its exit code', async () => {
    const run = await runCli(['selfie', 'check', 'missing.jpg', '--jq', '.files[0].findings[0].code']);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('unreadable\n');
  });

  it('raw strings cannot drive the terminal: control characters are shown escaped', async () => {
    const run = await runCli(['explain', '2205', '--jq', '"a\\u001b]0;title\\u0007b"']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('a\\x1b]0;title\\x07b\n');
  });

  it('the API key never comes out through a filter', async () => {
    const run = await runCli(['register', '--user-id', 'jq-key', '--selfie', SELFIE, '--jq', `"${KEY}"`], {
      env: env(),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain(KEY);
  });
});

describe('--query (JMESPath)', () => {
  it('implies --json and prints the result as JSON, like aws --query', async () => {
    const run = await runCli(['explain', '2205', '--query', '{code: code, final: final}']);
    expect(run.code).toBe(0);
    expect(run.json()).toEqual({ code: '2205', final: true });
    const title = await runCli(['explain', '2205', '--query', 'title']);
    expect(title.stdout).toBe('"You are not authorized to do that"\n');
  });

  it('a bad expression is exit 2 with JMESPath own message', async () => {
    const run = await runCli(['explain', '2205', '--query', 'title[']);
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({
      ok: false,
      error: { code: 'bad_filter', message: expect.stringMatching(/^--query expression does not compile: /) },
    });
  });

  it('--jq and --query together are a usage error', async () => {
    const run = await runCli(['explain', '2205', '--query', 'title', '--jq', '.title']);
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({ ok: false, error: { message: 'Give one of --jq or --query, not both.' } });
  });

  it('a usage error found by the parser is a JSON document too (--query implies --json)', async () => {
    const run = await runCli(['explain', '--query', 'title']);
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({ ok: false, error: { code: 'usage' } });
  });
});
