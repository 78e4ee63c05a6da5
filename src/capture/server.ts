// A one-shot capture page on loopback: serves Smile ID's own capture component
// (@smile_identity/smart-camera-web, from the installed package only) on 127.0.0.1 at a random port,
// behind a one-time token, and takes back exactly one set of images. Nothing here reaches the
// network; the page may ask the browser for the component's web fonts (it works without them).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { readLimited } from '../http/read-limited.js';
import { CAPTURE_PAGE_CSP, capturePage, capturePageScript } from './page.js';
import { parseCapturedImages } from './images.js';
import type { CapturedImages } from './images.js';

/** The whole upload: 1 selfie and at most 16 frames of a few hundred KB each, as base64 JSON. */
export const MAX_CAPTURE_BODY_BYTES = 20 * 1024 * 1024;
/** A page that goes away (tab closed, reload) cancels unless it comes back within this long. */
const GONE_GRACE_MS = 3000;

export type CaptureEnd =
  | { kind: 'captured'; images: CapturedImages }
  | { kind: 'cancelled'; reason: 'closed' | 'exited' }
  | { kind: 'timeout' };

export interface CaptureSession {
  /** The page to open: http://127.0.0.1:PORT/capture/TOKEN */
  url: string;
  /** How the capture ended; the server has stopped by then. */
  ended: Promise<CaptureEnd>;
  /** Stops the server (idempotent). */
  close(): Promise<void>;
}

export interface CaptureOptions {
  /** How long to wait for a capture. */
  timeoutMs: number;
  /** Ctrl-C: ends the wait (as `cancelled`/`exited` is not: the caller sees the abort itself). */
  signal: AbortSignal;
  /** Told when the page is opened and when images arrive (for progress lines). */
  onEvent?: (event: 'opened' | 'received') => void;
}

function componentPath(): string {
  return createRequire(import.meta.url).resolve('@smile_identity/smart-camera-web');
}

/** Starts the server; resolves once it listens. */
export async function startCaptureServer(options: CaptureOptions): Promise<CaptureSession> {
  const token = randomBytes(24).toString('base64url');
  const base = `/capture/${token}`;
  const component = await readFile(componentPath());
  let settle!: (end: CaptureEnd) => void;
  const ended = new Promise<CaptureEnd>((resolve) => (settle = resolve));
  let done = false;
  let received = false;
  let goneTimer: NodeJS.Timeout | undefined;

  const finish = (end: CaptureEnd): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    clearTimeout(goneTimer);
    settle(end);
    void close();
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(type.startsWith('text/html') ? { 'content-security-policy': CAPTURE_PAGE_CSP } : {}),
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Only this machine, by this address: a page elsewhere that resolves a name to 127.0.0.1
    // (DNS rebinding) sends another Host header.
    const port = (server.address() as AddressInfo).port;
    if (req.headers.host !== `127.0.0.1:${port}`) return send(res, 421, 'text/plain', 'wrong host\n');
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === base) {
      clearTimeout(goneTimer);
      options.onEvent?.('opened');
      return send(res, 200, 'text/html; charset=utf-8', capturePage(base));
    }
    if (req.method === 'GET' && path === `${base}/page.js`)
      return send(res, 200, 'text/javascript; charset=utf-8', capturePageScript(base));
    if (req.method === 'GET' && path === `${base}/smart-camera-web.js`)
      return send(res, 200, 'text/javascript; charset=utf-8', component);
    if (req.method === 'POST' && path === `${base}/images`) {
      if (received || done) return send(res, 409, 'application/json', '{"ok":false,"error":"already received"}\n');
      const body = await readLimited(req, MAX_CAPTURE_BODY_BYTES, {
        overflow: 'drain',
        declaredLength: req.headers['content-length'],
      });
      if (body.tooLarge) return send(res, 413, 'application/json', '{"ok":false,"error":"too large"}\n');
      const parsed = parseCapturedImages(body.bytes);
      if (!parsed.ok)
        return send(res, 400, 'application/json', `${JSON.stringify({ ok: false, error: parsed.error })}\n`);
      received = true;
      options.onEvent?.('received');
      send(res, 200, 'application/json', '{"ok":true}\n');
      return finish({ kind: 'captured', images: parsed.images });
    }
    if (req.method === 'POST' && path === `${base}/cancel`) {
      send(res, 204, 'text/plain', '');
      if (!received) finish({ kind: 'cancelled', reason: 'exited' });
      return;
    }
    if (req.method === 'POST' && path === `${base}/gone`) {
      // The tab was closed or reloaded: give a reload time to come back.
      send(res, 204, 'text/plain', '');
      if (!received && !done) {
        clearTimeout(goneTimer);
        goneTimer = setTimeout(() => finish({ kind: 'cancelled', reason: 'closed' }), GONE_GRACE_MS);
      }
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'error\n');
      else res.destroy();
    });
  });
  const timer = setTimeout(() => finish({ kind: 'timeout' }), options.timeoutMs);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      clearTimeout(timer);
      clearTimeout(goneTimer);
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const onAbort = (): void => {
    void close();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  void ended.finally(() => options.signal.removeEventListener('abort', onAbort));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: never reachable from another machine.
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${base}`, ended, close };
}
