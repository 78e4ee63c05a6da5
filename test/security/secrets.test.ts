/**
 * The API key, a signature and the credentials file's content never appear in stdout, stderr,
 * journals, reports, JSONL files or debug traces: every command runs with a marked key and every
 * output and file written is searched. (`smile emulator` is left out: it prints its own throwaway
 * key by design.)
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { signedFields } from '../../src/smile/sign.js';
import { runCli } from '../helpers/run-cli.js';
import type { RunCliOptions, RunCliResult } from '../helpers/run-cli.js';
import { MARKED_KEY, expectNoSecrets, filesUnder, recordingProxy } from './helpers.js';
import type { RecordingProxy } from './helpers.js';

const SELFIE = resolve('fixtures/selfies/demo.jpg');
const HAS_BULK = existsSync(resolve('src/commands/bulk.ts'));

let root: string;
let config: string;
let work: string;
let inputs: string;
let emulator: RunningEmulator;
let proxy: RecordingProxy;
const secrets = new Set<string>([MARKED_KEY]);
const outputs: { label: string; text: string }[] = [];
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

/** Runs the CLI with the profile config, records every output, and checks it at once. */
async function run(argv: string[], options: RunCliOptions = {}): Promise<RunCliResult> {
  const result = await runCli(argv, {
    ...options,
    env: { HOME: join(root, 'home'), SMILE_CONFIG_DIR: config, ...options.env },
  });
  const label = `smile ${argv.join(' ')}`;
  outputs.push(
    { label: `${label} (stdout)`, text: result.stdout },
    { label: `${label} (stderr)`, text: result.stderr },
  );
  expectNoSecrets(`${label} stdout`, result.stdout, [...secrets, ...proxy.signatures]);
  expectNoSecrets(`${label} stderr`, result.stderr, [...secrets, ...proxy.signatures]);
  return result;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'smile-security-'));
  config = join(root, 'config');
  work = join(root, 'work');
  inputs = join(root, 'inputs');
  await mkdir(work, { recursive: true });
  await mkdir(inputs, { recursive: true });
  emulator = await startEmulator({ port: 0, apiKey: MARKED_KEY, processingMs: 50, humanReviewMs: 100 });
  proxy = await recordingProxy(emulator.origin);
});
afterAll(async () => {
  await proxy.close();
  await emulator.close();
  await rm(root, { recursive: true, force: true });
});

describe('a marked API key never leaks', () => {
  it('profile add / list / show / use keep the key to the credentials file', async () => {
    const added = await run(
      [
        'profile',
        'add',
        'main',
        '--partner-id',
        '085',
        '--env',
        'sandbox',
        '--base-url',
        proxy.baseUrl,
        '--api-key-file',
        '-',
      ],
      { stdin: `${MARKED_KEY}\n` },
    );
    expect(added.code, added.stderr).toBe(0);
    const keyFile = join(inputs, 'key.txt');
    await writeFile(keyFile, MARKED_KEY, { mode: 0o600 });
    expect(
      (
        await run([
          'profile',
          'add',
          'second',
          '--partner-id',
          '085',
          '--env',
          'sandbox',
          '--base-url',
          proxy.baseUrl,
          '--api-key-file',
          keyFile,
          '--no-use',
          '--json',
        ])
      ).code,
    ).toBe(0);
    const content = await readFile(join(config, 'credentials.json'), 'utf8');
    expect(content).toContain(MARKED_KEY);
    secrets.add(content);
    secrets.add(content.trim());

    for (const argv of [
      ['profile', 'list'],
      ['profile', 'list', '--json'],
      ['profile', 'show'],
      ['profile', 'show', 'second', '--json'],
      ['profile', 'use', 'second'],
      ['profile', 'use', 'main', '--json'],
    ]) {
      expect((await run(argv)).code, argv.join(' ')).toBe(0);
    }
    const shown = await run(['profile', 'show', 'main', '--json']);
    expect(shown.stdout).toContain('KEY-…');
    // A terminal run (the ink card path) too.
    expect((await run(['profile', 'show'], { isTTY: true })).code).toBe(0);
  });

  it('register: results, every error family, --debug traces and the terminal card', async () => {
    const ok = await run(['register', '--user-id', uid('ok'), '--selfie', SELFIE]);
    expect(ok.code, ok.stderr).toBe(0);
    const user = uid('dup');
    const first = await run(['register', '--debug', '--user-id', user, '--selfie', SELFIE, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('[debug]');
    const duplicate = await run(['register', '--debug', '--user-id', user, '--selfie', SELFIE]);
    expect(duplicate.code).toBe(6);
    expect((await run(['register', '--debug', '--user-id', user, '--selfie', SELFIE, '--json'])).code).toBe(6);
    expect(
      (await run(['register', '--user-id', uid('bad'), '--selfie', resolve('fixtures/bad/zero-bytes.jpg'), '--debug']))
        .code,
    ).toBe(4);
    expect(
      (await run(['register', '--user-id', uid('expect'), '--selfie', SELFIE, '--expect', 'rejected', '--json'])).code,
    ).toBe(7);
    expect(
      (await run(['register', '--user-id', uid('reject'), '--selfie', SELFIE, '--sandbox-result', 'reject', '--debug']))
        .code,
    ).toBe(6);
    // --timeout is one deadline for submit + upload + wait (issue 9 item 11): 1ms runs out before the upload, exit 5.
    expect(
      (
        await run([
          'register',
          '--user-id',
          uid('pending'),
          '--selfie',
          SELFIE,
          '--sandbox-result',
          'provisional',
          '--timeout',
          '1ms',
          '--json',
        ])
      ).code,
    ).toBe(5);
    expect(
      (await run(['register', '--user-id', uid('nowait'), '--selfie', SELFIE, '--no-wait', '--debug', '--json'])).code,
    ).toBe(0);
    const unauthorized = await run(['register', '--debug', '--user-id', uid('auth'), '--selfie', SELFIE], {
      env: { SMILE_PARTNER_ID: '999', SMILE_API_KEY: MARKED_KEY, SMILE_BASE_URL: proxy.baseUrl },
    });
    expect(unauthorized.code).toBe(3);
    // An API failure (exit 5): a base URL whose path does not exist.
    const failed = await run([
      'register',
      '--debug',
      '--base-url',
      proxy.baseUrl.replace(/\/v1$/, '/wrong'),
      '--user-id',
      uid('api'),
      '--selfie',
      SELFIE,
      '--json',
    ]);
    expect(failed.code).toBe(5);
    expect((await run(['register', '--user-id', uid('tty'), '--selfie', SELFIE], { isTTY: true })).code).toBe(0);
    // The key in the environment rather than the profile.
    expect(
      (
        await run(['register', '--debug', '--user-id', uid('env'), '--selfie', SELFIE, '--json'], {
          env: { SMILE_PROFILE: '', SMILE_PARTNER_ID: '085', SMILE_API_KEY: MARKED_KEY, SMILE_BASE_URL: proxy.baseUrl },
        })
      ).code,
    ).toBe(0);
    expect(proxy.signatures.size).toBeGreaterThan(5);
  });

  it('status: once, --history --image-links, --wait, an unknown job, with --debug', async () => {
    const user = uid('status');
    const registered = await run(['register', '--user-id', user, '--selfie', SELFIE, '--json']);
    const jobId = String(registered.json()['job_id']);
    expect((await run(['status', '--user-id', user, '--job-id', jobId])).code).toBe(0);
    expect(
      (await run(['status', '--user-id', user, '--job-id', jobId, '--history', '--image-links', '--debug', '--json']))
        .code,
    ).toBe(0);
    expect((await run(['status', '--user-id', user, '--job-id', jobId, '--wait', '--debug'])).code).toBe(0);
    expect((await run(['status', '--user-id', user, '--job-id', 'job-does-not-exist', '--debug'])).code).not.toBe(0);
  });

  it('selfie check and explain', async () => {
    expect((await run(['selfie', 'check', SELFIE, resolve('fixtures/bad/tiny.jpg')])).code).toBe(4);
    expect((await run(['selfie', 'check', SELFIE, '--json'])).code).toBe(0);
    expect((await run(['explain', '2205'])).code).toBe(0);
    expect((await run(['explain', '2205', '--json'])).code).toBe(0);
  });

  it('doctor: human, --json, --debug, a key file, a wrong partner', async () => {
    expect((await run(['doctor'])).code).toBe(0);
    expect((await run(['doctor', '--json', '--debug'])).code).toBe(0);
    const keyFile = join(inputs, 'key-for-env.txt');
    await writeFile(keyFile, `${MARKED_KEY}\n`, { mode: 0o600 });
    expect((await run(['doctor', '--debug'], { env: { SMILE_API_KEY_FILE: keyFile } })).code).toBe(0);
    expect(
      (
        await run(['doctor', '--json'], {
          env: { SMILE_PARTNER_ID: '999', SMILE_API_KEY: MARKED_KEY, SMILE_BASE_URL: proxy.baseUrl, SMILE_PROFILE: '' },
        })
      ).code,
    ).toBe(3);
  });

  it('callback verify and callback listen (with its JSONL file)', async () => {
    const result = {
      Actions: { Register_Selfie: 'Approved' },
      IsFinalResult: 'true',
      IsMachineResult: 'true',
      PartnerParams: { user_id: 'cb', job_id: 'job-cb', job_type: '4' },
      ResultCode: '0810',
      ResultText: 'Enroll User',
      SmileJobID: '0000000001',
    };
    const body = { ...result, ...signedFields(MARKED_KEY, '085') };
    secrets.add(body.signature);
    const good = join(inputs, 'callback.json');
    const bad = join(inputs, 'callback-bad.json');
    await writeFile(good, JSON.stringify(body));
    await writeFile(bad, JSON.stringify({ ...body, signature: signedFields('not-the-key', '085').signature }));
    expect((await run(['callback', 'verify', good])).code).toBe(0);
    expect((await run(['callback', 'verify', good, '--json', '--debug'])).code).toBe(0);
    expect((await run(['callback', 'verify', bad])).code).toBe(3);
    expect((await run(['callback', 'verify', bad, '--json'])).code).toBe(3);

    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const controller = new AbortController();
    const listening = main(['callback', 'listen', '--port', '0', '--out', join(work, 'callbacks.jsonl'), '--debug'], {
      stdout,
      stderr,
      stdin: new PassThrough(),
      env: { NO_COLOR: '1', SMILE_CONFIG_DIR: config, HOME: join(root, 'home') },
      signal: controller.signal,
    });
    await expect.poll(() => /listening on (http:\/\/[^/]+)/.exec(err)?.[1], { timeout: 5000 }).toBeTruthy();
    const url = /listening on (http:\/\/[^/]+)/.exec(err)![1]!;
    expect((await fetch(`${url}/cb`, { method: 'POST', body: JSON.stringify(body) })).status).toBe(200);
    expect((await fetch(`${url}/cb`, { method: 'POST', body: await readFile(bad, 'utf8') })).status).toBe(401);
    controller.abort();
    expect(await listening).toBe(0);
    expectNoSecrets('callback listen stdout', out, [...secrets, ...proxy.signatures]);
    expectNoSecrets('callback listen stderr', err, [...secrets, ...proxy.signatures]);
  });

  it.skipIf(!HAS_BULK)('bulk: summary, report (CSV and JSONL), rejects, journal, --debug', async () => {
    const csv = join(work, 'rows.csv');
    await writeFile(
      csv,
      [
        'user_id,selfie,sandbox_result',
        `${uid('bulk')},${SELFIE},approve`,
        `${uid('bulk')},${SELFIE},reject`,
        `${uid('bulk')},${resolve('fixtures/bad/zero-bytes.jpg')},`,
      ].join('\n') + '\n',
    );
    const csvRun = await run([
      'bulk',
      csv,
      '--report',
      join(work, 'report.csv'),
      '--rejects',
      join(work, 'rejects.csv'),
      '--json',
      '--debug',
    ]);
    expect([0, 4, 5, 6]).toContain(csvRun.code);
    const jsonl = join(work, 'rows.jsonl');
    await writeFile(
      jsonl,
      `${JSON.stringify({ user_id: uid('bulk'), selfie: SELFIE })}\n${JSON.stringify({ user_id: uid('bulk'), selfie: SELFIE, sandbox_result: 'provisional' })}\n`,
    );
    const jsonlRun = await run([
      'bulk',
      jsonl,
      '--report',
      join(work, 'report.jsonl'),
      '--rejects',
      join(work, 'rejects.jsonl'),
      '--timeout',
      '200ms',
    ]);
    expect([0, 5, 6, 8]).toContain(jsonlRun.code);
    expect((await run(['bulk', csv, '--dry-run'])).code).not.toBe(1);
  });

  it('profile remove', async () => {
    expect((await run(['profile', 'remove', 'second'])).code).toBe(0);
    expect((await run(['profile', 'remove', 'second', '--json'])).code).not.toBe(0);
  });

  it('no file written by smile holds the key, a signature or the credentials (except credentials.json itself)', async () => {
    const files = [...(await filesUnder(config)), ...(await filesUnder(work))];
    expect(files.map((file) => file.path)).toContain(join(config, 'credentials.json'));
    expect(files.map((file) => file.path)).toContain(join(work, 'callbacks.jsonl'));
    if (HAS_BULK) expect(files.some((file) => file.path.endsWith('.smile-journal.jsonl'))).toBe(true);
    for (const file of files) {
      if (file.path === join(config, 'credentials.json')) continue;
      expectNoSecrets(file.path, file.content, [...secrets, ...proxy.signatures]);
    }
    // And every output taken together (a secret split over two writes is still one output).
    expectNoSecrets('all outputs', outputs.map((output) => output.text).join('\n'), [...secrets, ...proxy.signatures]);
    expect(outputs.length).toBeGreaterThan(60);
  });
});
