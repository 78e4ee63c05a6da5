import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * A real browser with a fake camera, for the capture page: Debian's chromium driven by
 * playwright-core, the camera fed from a y4m made by ffmpeg from a real face. Without chromium or
 * ffmpeg the browser tests skip and say why; SMILE_REQUIRE_BROWSER=1 (CI) turns the skip into a
 * failure.
 */

/** Set in CI: a browser test that cannot run fails instead of skipping. */
export const BROWSER_REQUIRED = process.env['SMILE_REQUIRE_BROWSER'] === '1';

/** Long enough for a loaded 2-core runner; only turns a hang into a readable failure. */
const STEP_TIMEOUT_MS = 30_000;

function onPath(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The chromium to drive: SMILE_CHROMIUM, else Debian's `/usr/bin/chromium` (apt package chromium). */
export function findChromium(): string | undefined {
  const fromEnv = process.env['SMILE_CHROMIUM'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return ['/usr/bin/chromium'].find((path) => existsSync(path));
}

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailableReason(): string | undefined {
  const missing: string[] = [];
  if (!findChromium())
    missing.push(
      process.env['SMILE_CHROMIUM']
        ? `chromium (SMILE_CHROMIUM=${process.env['SMILE_CHROMIUM']} not found)`
        : 'chromium',
    );
  if (!onPath('ffmpeg')) missing.push('ffmpeg');
  if (missing.length === 0) return undefined;
  return `needs ${missing.join(' and ')}: apt-get install -y --no-install-recommends chromium ffmpeg`;
}

/**
 * The fake camera's video: the face photo letterboxed into 1280x720 on grey, one second at 10 fps
 * (chromium loops the file), in the raw y4m format chromium's fake capture device reads.
 */
export function makeFakeCameraY4m(jpegPath: string, outPath: string): string {
  execFileSync(
    'ffmpeg',
    [
      '-y',
      '-loglevel',
      'error',
      '-loop',
      '1',
      '-i',
      jpegPath,
      '-vf',
      'scale=-2:720,pad=1280:720:(ow-iw)/2:0:gray,format=yuv420p',
      '-r',
      '10',
      '-t',
      '1',
      outPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return outPath;
}

/** Headless chromium whose camera (granted without a prompt) plays `y4m`. */
export async function launchWithFakeCamera(y4m: string): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(browserUnavailableReason() ?? 'chromium not found');
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`,
      // root in a container: chromium's sandbox needs user namespaces it may not have.
      '--no-sandbox',
    ],
  });
}

/** Requests `blockOffMachine` refused, in the order they were made. */
export interface OffMachineLog {
  aborted: string[];
}

/**
 * Aborts every request of `context` that is not to 127.0.0.1 (the component's Google Fonts link,
 * anything else that would leave the machine) and records it; a capture must finish without them.
 */
export async function blockOffMachine(context: BrowserContext): Promise<OffMachineLog> {
  const log: OffMachineLog = { aborted: [] };
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    let local = false;
    try {
      const parsed = new URL(url);
      local = (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname === '127.0.0.1';
    } catch {
      local = false;
    }
    try {
      if (local) await route.continue();
      else {
        log.aborted.push(url);
        await route.abort('blockedbyclient');
      }
    } catch {
      // the page or context closed while the request was in flight
    }
  });
  return log;
}

export interface DriveOptions {
  /** Save a PNG of each step here (01-request.png, 02-camera.png, ...). */
  screenshots?: string;
}

/** Screens of `<smart-camera-web>`, by the id of their element in its shadow root. */
const SCREENS = {
  request: '#request-screen',
  camera: '#camera-screen',
  failed: '#failed-image-test-screen',
  review: '#review-screen',
  thanks: '#thanks-screen',
} as const;

/**
 * Waits until `condition` (JavaScript over `el`, the element `selector` finds in the component's
 * shadow root) holds in the page. A string, evaluated by the browser: this project's types have no DOM.
 */
async function untilInComponent(page: Page, selector: string, condition: string): Promise<void> {
  await page.waitForFunction(
    `(() => {
      const el = document.querySelector('smart-camera-web')?.shadowRoot?.querySelector(${JSON.stringify(selector)});
      return !!el && (${condition});
    })()`,
    undefined,
    { timeout: STEP_TIMEOUT_MS, polling: 50 },
  );
}

/**
 * Clicks `<smart-camera-web>` (selfie + liveness, no ID) from its first screen to the end:
 * "Allow" (request-camera-access), once the video plays "Take selfie" (start-image-capture; the
 * component then grabs a frame every 200 ms for 7.8 s and takes the reference selfie), and on the
 * review screen "Yes, use this one" (select-selfie), which dispatches `imagesComputed`. Resolves
 * once the component has published, whatever the host page then does with the element. Playwright's
 * CSS locators pierce the component's open shadow roots.
 */
export async function driveSmartCameraWeb(page: Page, options: DriveOptions = {}): Promise<void> {
  const scw = page.locator('smart-camera-web');
  let step = 0;
  const shot = async (name: string): Promise<void> => {
    step += 1;
    if (!options.screenshots) return;
    mkdirSync(options.screenshots, { recursive: true });
    await page.screenshot({
      path: join(options.screenshots, `${String(step).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });
  };
  const visible = { state: 'visible', timeout: STEP_TIMEOUT_MS } as const;

  // Told by the page itself (a binding survives the host page navigating or removing the element).
  let published!: () => void;
  const publishedSeen = new Promise<void>((resolve) => (published = resolve));
  const binding = `__smileTestPublished${Math.random().toString(36).slice(2)}`;
  await page.exposeFunction(binding, () => published());
  await scw.waitFor({ state: 'attached', timeout: STEP_TIMEOUT_MS });
  await page.evaluate(
    `document.querySelector('smart-camera-web').addEventListener('imagesComputed', () => ${binding}(), { once: true })`,
  );

  const allow = scw.locator('#request-camera-access');
  await allow.waitFor(visible);
  await shot('request');
  await allow.click();

  // The camera screen shows as soon as getUserMedia resolves; frames grabbed before the video has
  // its size are blank, so wait for the video to play before starting.
  await scw.locator(SCREENS.camera).waitFor(visible);
  await untilInComponent(
    page,
    `${SCREENS.camera} video`,
    'el.readyState >= 2 && el.videoWidth > 0 && el.currentTime > 0',
  );
  await shot('camera');

  await scw.locator('#start-image-capture').click();
  // It captures for 7.8 s with the button disabled, then shows the review (or the failure) screen.
  await untilInComponent(page, '#start-image-capture', 'el.disabled');
  await shot('capturing');

  const review = scw.locator(SCREENS.review);
  const failed = scw.locator(SCREENS.failed);
  await review.or(failed).filter({ visible: true }).waitFor(visible);
  if (await failed.isVisible()) {
    await shot('failed');
    throw new Error('smart-camera-web showed "Device not supported": its reference photo failed its colour test');
  }
  // The review image is the reference selfie, as a data URL.
  await untilInComponent(page, '#review-image', 'el.complete && el.naturalWidth > 0');
  await shot('review');

  await scw.locator('#select-selfie').click();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      publishedSeen,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('smart-camera-web did not dispatch imagesComputed after "Yes, use this one"')),
          STEP_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  await shot('published');
}

/** Why a test that only opens pages (no camera) cannot run here, or undefined when it can. */
export function chromiumUnavailableReason(): string | undefined {
  if (findChromium()) return undefined;
  return process.env['SMILE_CHROMIUM']
    ? `needs chromium (SMILE_CHROMIUM=${process.env['SMILE_CHROMIUM']} not found)`
    : 'needs chromium: apt-get install -y --no-install-recommends chromium';
}

/** Headless chromium, no camera: for pages smile writes (the HTML report). */
export async function launchHeadless(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(chromiumUnavailableReason() ?? 'chromium not found');
  const { chromium } = await import('playwright-core');
  // root in a container: chromium's sandbox needs user namespaces it may not have.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}
