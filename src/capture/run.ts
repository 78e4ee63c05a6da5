// One capture, from the terminal's side: start the page, open the browser (or print the URL),
// wait for the photos, and turn how it ended into smile's errors and exit codes.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunContext } from '../context.js';
import { CancelledError, InputError } from '../errors.js';
import type { Duration } from '../parse.js';
import type { CapturedImages } from './images.js';

export interface CaptureRunOptions {
  /** Open the page in the default browser (false: --no-open, print the URL only). */
  open: boolean;
  timeout: Duration;
}

/** Serves the capture page until the photos arrive; throws (exit 130 or 4) when they do not. */
export async function captureInBrowser(ctx: RunContext, options: CaptureRunOptions): Promise<CapturedImages> {
  const { startCaptureServer } = await import('./server.js');
  const session = await startCaptureServer({
    timeoutMs: options.timeout.ms,
    signal: ctx.signal,
    onEvent: (event) =>
      ctx.out.info(event === 'opened' ? 'The capture page is open.' : 'Photos received; the browser can be closed.'),
  });
  ctx.onCleanup(() => session.close());
  // The URL is what the operator needs: on stderr even with --quiet and --json (stdout stays the document).
  ctx.out.stderr(
    `Take the selfie at ${session.url}\n  (this computer only; waiting up to ${options.timeout.text}; Ctrl-C to stop)\n`,
  );
  if (options.open) {
    try {
      const { default: open } = await import('open');
      await open(session.url, { wait: false });
    } catch {
      ctx.out.stderr('Could not open a browser: open the address above yourself.\n');
    }
  }
  let stop = (): void => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    stop = () => resolve('aborted');
    if (ctx.signal.aborted) stop();
    else ctx.signal.addEventListener('abort', stop, { once: true });
  });
  const end = await Promise.race([session.ended, aborted]);
  ctx.signal.removeEventListener('abort', stop);
  await session.close();
  if (end === 'aborted') throw new CancelledError('Interrupted: nothing was captured or sent.');
  switch (end.kind) {
    case 'captured':
      return end.images;
    case 'cancelled':
      throw new CancelledError(
        end.reason === 'closed'
          ? 'The capture page was closed before the photos were taken: nothing was sent.'
          : 'The capture was cancelled in the browser: nothing was sent.',
      );
    case 'timeout':
      throw new InputError(`No selfie was captured within ${options.timeout.text}: nothing was sent.`, {
        code: 'capture_timeout',
        hint: 'Run it again and take the selfie, give more time with --capture-timeout, or pass --selfie FILE.',
      });
  }
}

export interface SavedCapture {
  selfie: string;
  liveness: string[];
}

/** Writes the photos as selfie.jpg and liveness-1.jpg … into `dir` (created, private). */
export async function saveCapturedImages(dir: string, images: CapturedImages): Promise<SavedCapture> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const selfie = join(dir, 'selfie.jpg');
  await writeFile(selfie, images.selfie, { mode: 0o600 });
  const liveness: string[] = [];
  for (const [index, frame] of images.liveness.entries()) {
    const path = join(dir, `liveness-${index + 1}.jpg`);
    await writeFile(path, frame, { mode: 0o600 });
    liveness.push(path);
  }
  return { selfie, liveness };
}

/** A private temporary directory for one registration's photos, removed when the command ends. */
export async function temporaryCaptureDir(ctx: RunContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smile-capture-'));
  ctx.onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
