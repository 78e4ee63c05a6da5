/**
 * `smile register --capture` and `smile capture --out DIR` without a browser: the packaged binary
 * in a child process, its capture page spoken to over real HTTP on loopback as the page's script
 * would (the real browser is in capture-browser.test.ts), and the project's emulator as Smile ID.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { childEnv } from '../helpers/child-env.js';
import { until } from '../helpers/wait-for.js';

const ROOT = resolve(import.meta.dirname, '../..');
let home: string;
let emulator: RunningEmulator;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'smile-capture-test-'));
  emulator = await startEmulator({ port: 0, processingMs: 50 });
});
afterAll(async () => {
  await emulator.close();
  await rm(home, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output(): { stdout: string; stderr: string };
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts smile and waits for the capture page's address on its stderr. */
async function startSmile(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, ['bin/smile.js', ...args], {
    cwd: ROOT,
    env: childEnv(home, {
      SMILE_CONFIG_DIR: join(home, 'config'),
      SMILE_PARTNER_ID: emulator.partnerId,
      SMILE_API_KEY: emulator.apiKey,
      SMILE_BASE_URL: emulator.baseUrl,
      ...extraEnv,
    }),
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end();
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveDone) =>
    child.on('close', (code) => resolveDone({ code, stdout, stderr })),
  );
  const url = await until(
    () => /http:\/\/127\.0\.0\.1:\d+\/capture\/[\w-]+/.exec(stderr)?.[0],
    () => `the capture address on stderr; stderr so far:\n${stderr}`,
  );
  return { child, url, output: () => ({ stdout, stderr }), done };
}

interface Answer {
  status: number;
  type: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to the capture server (any Host header the test wants). */
function http(url: string, options: { method?: string; body?: Buffer | string; host?: string } = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolveAnswer, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: options.method ?? 'GET',
        headers: {
          ...(options.host ? { host: options.host } : {}),
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolveAnswer({ status: res.statusCode ?? 0, type: res.headers['content-type'], headers: res.headers, body }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** What smart-camera-web publishes: one selfie (type 2) and liveness frames (type 6), base64 JPEGs. */
async function componentDetail(frames = 8): Promise<string> {
  const b64 = async (path: string) => (await readFile(path)).toString('base64');
  const frame = await b64('fixtures/selfies/liveness-2.jpg');
  return JSON.stringify({
    images: [
      { image_type_id: 2, image: await b64('fixtures/selfies/demo.jpg') },
      ...Array.from({ length: frames }, () => ({ image_type_id: 6, image: frame })),
    ],
    partner_params: { libraryVersion: '11.0.1', permissionGranted: true },
  });
}

const jobsOf = (userId: string) => [...emulator.state.jobs.values()].filter((job) => job.userId === userId);

describe('smile register --capture', () => {
  it('registers what the page sends: one selfie and its liveness frames, approved', async () => {
    const user = uid('cap');
    // A temporary directory of its own: other tests capture at the same time.
    const temp = await mkdtemp(join(home, 'tmp-'));
    const run = await startSmile(['register', '--capture', '--no-open', '--user-id', user, '--json'], {
      TMPDIR: temp,
    });
    const page = await http(run.url);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<smart-camera-web');
    const script = await http(`${run.url}/smart-camera-web.js`);
    expect([script.status, script.type]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(script.body).toBe(
      await readFile(join(ROOT, 'node_modules/@smile_identity/smart-camera-web/smart-camera-web.js'), 'utf8'),
    );

    expect((await http(`${run.url}/images`, { method: 'POST', body: await componentDetail(8) })).status).toBe(200);
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: 'approved',
      user_id: user,
      face_check: 'passed',
      liveness_frames: 8,
    });
    const [job, ...more] = jobsOf(user);
    expect(more).toEqual([]);
    const entries = job?.zip?.entries ?? [];
    expect(entries.filter((name) => name !== 'info.json')).toHaveLength(9);
    // The photos lived in a private temporary directory, removed at the end.
    expect((await readdir(temp)).filter((name) => name.startsWith('smile-capture-'))).toEqual([]);
  });

  it('answers only its own address, on its own Host, and takes one set of photos', async () => {
    const run = await startSmile(['register', '--capture', '--no-open', '--user-id', uid('one'), '--json']);
    const port = new URL(run.url).port;
    expect((await http(`http://127.0.0.1:${port}/capture/not-the-token`)).status).toBe(404);
    expect((await http(`http://127.0.0.1:${port}/`)).status).toBe(404);
    // DNS rebinding: a name that resolves to 127.0.0.1 sends another Host.
    expect((await http(run.url, { host: `attacker.example:${port}` })).status).toBe(421);
    // A broken or foreign body is refused, and the capture goes on waiting.
    expect((await http(`${run.url}/images`, { method: 'POST', body: '{"images":[]}' })).status).toBe(400);
    const odd = JSON.stringify({ images: [{ image_type_id: 2, image: Buffer.from('<html>').toString('base64') }] });
    expect((await http(`${run.url}/images`, { method: 'POST', body: odd })).status).toBe(400);
    expect((await http(`${run.url}/images`, { method: 'POST', body: 'x'.repeat(21 * 1024 * 1024) })).status).toBe(413);
    expect((await http(`${run.url}/images`, { method: 'POST', body: await componentDetail(6) })).status).toBe(200);
    expect((await run.done).code).toBe(0);
  });

  it('cancelled in the page (the component closed): exit 130, nothing sent', async () => {
    const user = uid('cancel');
    const run = await startSmile(['register', '--capture', '--no-open', '--user-id', user]);
    await http(run.url);
    expect((await http(`${run.url}/cancel`, { method: 'POST' })).status).toBe(204);
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/cancelled in the browser: nothing was sent/);
    expect(jobsOf(user)).toEqual([]);
  });

  it('a closed tab ends it (exit 130); a reload within the grace period does not', async () => {
    const user = uid('tab');
    const run = await startSmile(['register', '--capture', '--no-open', '--user-id', user, '--json']);
    await http(run.url);
    await http(`${run.url}/gone`, { method: 'POST' });
    // Reloaded: the page is asked for again at once, and the capture finishes.
    await http(run.url);
    expect((await http(`${run.url}/images`, { method: 'POST', body: await componentDetail() })).status).toBe(200);
    expect((await run.done).code).toBe(0);

    const closed = uid('closed');
    const gone = await startSmile(['register', '--capture', '--no-open', '--user-id', closed]);
    await http(gone.url);
    await http(`${gone.url}/gone`, { method: 'POST' });
    const result = await gone.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/closed before the photos were taken: nothing was sent/);
    expect(jobsOf(closed)).toEqual([]);
  });

  it('nothing captured within --capture-timeout: exit 4, nothing sent', async () => {
    const user = uid('late');
    const run = await startSmile([
      'register',
      '--capture',
      '--no-open',
      '--capture-timeout',
      '1s',
      '--user-id',
      user,
      '--json',
    ]);
    const result = await run.done;
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'capture_timeout' } });
    expect(jobsOf(user)).toEqual([]);
  });

  it('Ctrl-C while waiting: exit 130, the page is gone, nothing sent', async () => {
    const user = uid('int');
    const run = await startSmile(['register', '--capture', '--no-open', '--user-id', user]);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    await expect(http(run.url)).rejects.toThrow(/ECONNREFUSED/);
    expect(jobsOf(user)).toEqual([]);
  });

  it('does not go with --selfie (exit 2)', async () => {
    const child = spawn(
      process.execPath,
      ['bin/smile.js', 'register', '--capture', '--selfie', 'fixtures/selfies/demo.jpg', '--user-id', 'u-1'],
      { cwd: ROOT, env: childEnv(home, { SMILE_PARTNER_ID: '085', SMILE_API_KEY: 'k' }), stdio: 'pipe' },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((done) => child.on('close', done));
    expect(code).toBe(2);
    expect(stderr).toContain('--capture takes the photos itself');
  });
});

describe('smile capture --out DIR', () => {
  it('saves the selfie and the frames, checks them, and says how to register them', async () => {
    const dir = join(home, 'photos', uid('out'));
    const run = await startSmile(['capture', '--out', dir, '--no-open', '--json']);
    expect((await http(`${run.url}/images`, { method: 'POST', body: await componentDetail(8) })).status).toBe(200);
    const result = await run.done;
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      ok: boolean;
      selfie: string;
      liveness: string[];
      liveness_frames: number;
    };
    expect(doc).toMatchObject({ ok: true, selfie: join(dir, 'selfie.jpg'), liveness_frames: 8 });
    expect((await readdir(dir)).sort()).toEqual(
      ['selfie.jpg', ...Array.from({ length: 8 }, (_, i) => `liveness-${i + 1}.jpg`)].sort(),
    );
    expect((await readFile(doc.selfie)).equals(await readFile('fixtures/selfies/demo.jpg'))).toBe(true);

    // A second capture into the same directory is refused before anything starts: the first is kept.
    const again = spawn(process.execPath, ['bin/smile.js', 'capture', '--out', dir, '--no-open'], {
      cwd: ROOT,
      env: childEnv(home),
      stdio: 'pipe',
    });
    let stderr = '';
    again.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await new Promise((done) => again.on('close', done))).toBe(2);
    expect(stderr).toContain('already holds a capture');
  });
});
