/**
 * `smile register --capture` in a real browser: the packaged binary serves Smile ID's
 * smart-camera-web on 127.0.0.1, headless Debian chromium (playwright-core) opens the printed URL
 * with a fake camera playing a real face, and clicks through the component. Every request that
 * would leave the machine is aborted; the capture must finish without them. Without chromium or
 * ffmpeg the tests skip and say why; SMILE_REQUIRE_BROWSER=1 (CI) makes that a failure.
 * SMILE_BROWSER_SCREENSHOTS=DIR keeps a PNG of each step.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import {
  BROWSER_REQUIRED,
  blockOffMachine,
  browserUnavailableReason,
  driveSmartCameraWeb,
  launchWithFakeCamera,
  makeFakeCameraY4m,
} from '../helpers/browser.js';
import { childEnv } from '../helpers/child-env.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FACE = join(ROOT, 'fixtures/selfies/demo.jpg');
const CAPTURE_URL = /http:\/\/127\.0\.0\.1:\d+\/capture\/[A-Za-z0-9_-]+/;
/** A capture takes ~8 s of filming plus the browser's start; generous for a loaded 2-core runner. */
const BROWSER_TEST_TIMEOUT_MS = 120_000;

const unavailable = browserUnavailableReason();
const skip = unavailable !== undefined && !BROWSER_REQUIRED;
const title = `smile register --capture in headless chromium with a fake camera${skip ? ` (skipped: ${unavailable})` : ''}`;
if (skip) console.warn(`capture-browser: skipped, ${unavailable} (SMILE_REQUIRE_BROWSER=1 makes this a failure)`);

interface Capture {
  child: ChildProcessWithoutNullStreams;
  url: Promise<string>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

let home: string;
let emulator: RunningEmulator;
let browser: Browser;
const children: ChildProcessWithoutNullStreams[] = [];
const contexts: BrowserContext[] = [];
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

/** `smile register --capture --no-open` against the emulator; the URL is read from its stderr. */
function startCapture(userId: string): Capture {
  const child = spawn(
    process.execPath,
    ['bin/smile.js', 'register', '--capture', '--no-open', '--capture-timeout', '5m', '--user-id', userId, '--json'],
    {
      cwd: ROOT,
      env: childEnv(home, {
        SMILE_CONFIG_DIR: join(home, 'config'),
        SMILE_PARTNER_ID: emulator.partnerId,
        SMILE_API_KEY: emulator.apiKey,
        SMILE_BASE_URL: emulator.baseUrl,
      }),
      stdio: 'pipe',
    },
  );
  children.push(child);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const url = new Promise<string>((found, fail) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = CAPTURE_URL.exec(stderr);
      if (match) found(match[0]);
    });
    child.on('close', () => fail(new Error(`smile exited without printing the capture URL:\n${stderr}`)));
  });
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
  return { child, url, exit };
}

/** What reached the emulator about `userId`: its jobs and every request that names it. */
function sentFor(userId: string) {
  const jobs = [...emulator.state.jobs.values()].filter((job) => job.userId === userId);
  const requests = emulator.state.requests.filter((entry) => JSON.stringify(entry).includes(userId));
  return { jobs, requests };
}

describe.skipIf(skip)(title, () => {
  beforeAll(async () => {
    if (unavailable) throw new Error(`${unavailable} (SMILE_REQUIRE_BROWSER=1: the browser test may not skip)`);
    home = await mkdtemp(join(tmpdir(), 'smile-capture-browser-'));
    const y4m = makeFakeCameraY4m(FACE, join(home, 'face.y4m'));
    emulator = await startEmulator({ port: 0, processingMs: 150 });
    browser = await launchWithFakeCamera(y4m);
  }, 60_000);

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill();
  });

  afterAll(async () => {
    await browser?.close();
    await emulator?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it(
    'registers the user with the selfie and the liveness frames the component took, approved, nothing off the machine',
    async () => {
      const user = uid('capture');
      const capture = startCapture(user);
      const url = await capture.url;
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      const offMachine = await blockOffMachine(context);
      const page = await context.newPage();
      await page.goto(url);
      const screenshots = process.env['SMILE_BROWSER_SCREENSHOTS'];
      await driveSmartCameraWeb(page, { screenshots });
      // smile's page says the photos arrived once the command has taken them.
      await page.locator('#status', { hasText: 'Done' }).waitFor({ state: 'visible', timeout: 30_000 });
      if (screenshots) await page.screenshot({ path: join(screenshots, '06-done.png'), fullPage: true });

      const run = await capture.exit;
      expect(run.code, run.stderr).toBe(0);
      const doc = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(doc).toMatchObject({ ok: true, outcome: 'approved', user_id: user });
      const frames = doc['liveness_frames'] as number;
      expect(frames).toBeGreaterThanOrEqual(6);

      // What reached the emulator: one job for the user, one selfie and the frames in its zip.
      const { jobs } = sentFor(user);
      expect(jobs).toHaveLength(1);
      const job = jobs[0]!;
      expect(job.jobId).toBe(doc['job_id']);
      const entries = job.zip?.entries ?? [];
      expect(entries.filter((name) => name.startsWith('selfie'))).toEqual(['selfie.jpg']);
      expect(entries.filter((name) => name.startsWith('liveness'))).toHaveLength(frames);
      expect(job.zip?.livenessFrames).toBe(frames);
      expect(job.zip?.selfie).toEqual({ source: 'file', entry: 'selfie.jpg' });
      expect(doc['actions']).toMatchObject({ Liveness_Check: 'Passed', Register_Selfie: 'Approved' });

      // The capture finished although everything off the machine was refused; say what that was.
      console.log(
        `capture-browser: a selfie and ${frames} liveness frames sent; ${offMachine.aborted.length} off-machine request(s) aborted, none needed:\n` +
          offMachine.aborted.map((request) => `  ${request}`).join('\n'),
      );
      for (const request of offMachine.aborted) expect(new URL(request).hostname).not.toBe('127.0.0.1');
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a tab closed before the photos are taken ends the command with 130 and sends nothing',
    async () => {
      const user = uid('closed');
      const capture = startCapture(user);
      const url = await capture.url;
      const context = await browser.newContext();
      contexts.push(context);
      await blockOffMachine(context);
      const page = await context.newPage();
      await page.goto(url);
      // The page is up and its script listens: the component shows its first screen.
      await page.locator('smart-camera-web #request-camera-access').waitFor({ state: 'visible', timeout: 30_000 });
      await page.close();

      const run = await capture.exit;
      expect(run.code, run.stderr).toBe(130);
      // --json: the one document on stdout is the error.
      expect(JSON.parse(run.stdout)).toMatchObject({
        ok: false,
        error: {
          code: 'interrupted',
          message: expect.stringMatching(/closed before the photos were taken: nothing was sent/),
        },
      });
      const { jobs, requests } = sentFor(user);
      expect(jobs).toEqual([]);
      expect(requests).toEqual([]);
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
