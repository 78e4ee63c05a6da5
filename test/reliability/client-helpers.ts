/**
 * Hostile servers for the client reliability tests: a proxy in front of the real emulator that a
 * test can make lie, redirect, stream without end or never answer, and a server that records
 * whatever reaches it. Real sockets on 127.0.0.1, nothing mocked.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';

export const SELFIE = 'fixtures/selfies/demo.jpg';

let seq = 0;
/** A user id of its own for each registration of a test file (the emulator refuses a second enrollment). */
export const uid = (label: string): string => `${label}-${process.pid}-${++seq}`;

/** The `--json` error document of a refused command. */
export interface ErrorDoc {
  ok: boolean;
  error: { code: string; message: string; hint: string | null; details?: Record<string, unknown> };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Tracked {
  server: Server;
  origin: string;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 and remember every socket, so close() never waits for a hung client. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Tracked> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** What the proxy does with one request: forward it (optionally rewriting a JSON answer), or answer itself. */
export type Intercept = (req: IncomingMessage, body: Buffer, res: ServerResponse) => boolean;

export interface HostileProxy {
  /** The v1 base through the proxy. */
  baseUrl: string;
  origin: string;
  emulator: RunningEmulator;
  /** Return true when the request was answered here; false forwards it to the emulator. */
  intercept: Intercept | undefined;
  /** Change a forwarded JSON answer (path without query). */
  rewrite: ((path: string, body: Record<string, unknown>) => Record<string, unknown>) | undefined;
  /** Every request seen: method and path. */
  seen: { method: string; path: string }[];
  close(): Promise<void>;
}

/**
 * A proxy in front of a fresh emulator. Upload URLs in prep-upload answers are pointed at the
 * proxy too, so that a test can also intercept the zip PUT.
 */
export async function hostileProxy(options: { processingMs?: number } = {}): Promise<HostileProxy> {
  const emulator = await startEmulator({ port: 0, processingMs: options.processingMs ?? 100 });
  const proxy: HostileProxy = {
    baseUrl: '',
    origin: '',
    emulator,
    intercept: undefined,
    rewrite: undefined,
    seen: [],
    close: async () => undefined,
  };
  const tracked = await listen((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0]!;
      proxy.seen.push({ method: req.method ?? 'GET', path });
      if (proxy.intercept?.(req, body, res)) return;
      const response = await fetch(`${emulator.origin}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(body.length > 0 ? { body } : {}),
      });
      let text = await response.text();
      try {
        let json = JSON.parse(text) as Record<string, unknown>;
        if (typeof json['upload_url'] === 'string')
          json = { ...json, upload_url: json['upload_url'].replace(emulator.origin, proxy.origin) };
        if (proxy.rewrite) json = proxy.rewrite(path, json);
        text = JSON.stringify(json);
      } catch {
        // not JSON (an S3-style XML error): passed on as it is
      }
      res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.statusCode = 502;
      res.end(String(error));
    });
  });
  proxy.origin = tracked.origin;
  proxy.baseUrl = `${tracked.origin}/v1`;
  proxy.close = async () => {
    await tracked.close();
    await emulator.close();
  };
  return proxy;
}

export interface RecordingServer {
  origin: string;
  /** Every request that reached it, with the size of its body. */
  received: { method: string; path: string; bodyBytes: number }[];
  close(): Promise<void>;
}

/** A server that only records what reaches it (the target of a hostile redirect). */
export async function recordingServer(): Promise<RecordingServer> {
  const received: RecordingServer['received'] = [];
  const tracked = await listen((req, res) => {
    void readBody(req).then((body) => {
      received.push({ method: req.method ?? 'GET', path: req.url ?? '/', bodyBytes: body.length });
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"code":"2201","error":"recorded"}');
    });
  });
  return { origin: tracked.origin, received, close: tracked.close };
}

export interface SilentServer {
  baseUrl: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A server that accepts connections, reads the request and never answers. */
export async function silentServer(): Promise<SilentServer> {
  let count = 0;
  const tracked = await listen((req) => {
    req.resume();
  });
  tracked.server.on('connection', () => count++);
  return { baseUrl: `${tracked.origin}/v1`, connections: () => count, close: tracked.close };
}

/**
 * Answer with a 200 whose body never ends (up to `totalBytes`), written with backpressure so that
 * `sent()` counts what the client actually took; `closed()` turns true when the client hung up.
 */
export function streamHugeBody(
  res: ServerResponse,
  totalBytes: number,
  prefix = '{"timestamp":"',
): { sent(): number; closed(): boolean } {
  let sent = 0;
  let closed = false;
  const chunk = Buffer.alloc(64 * 1024, 'a');
  res.on('close', () => {
    closed = true;
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(prefix);
  sent += prefix.length;
  const pump = (): void => {
    while (!closed && sent < totalBytes) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!closed) res.end('"}');
  };
  pump();
  return { sent: () => sent, closed: () => closed };
}

/** Credentials and base URL for runCli against a proxy (no profile on disk). */
export function envFor(
  proxy: { baseUrl: string; emulator: RunningEmulator },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    SMILE_PARTNER_ID: proxy.emulator.partnerId,
    SMILE_API_KEY: proxy.emulator.apiKey,
    SMILE_BASE_URL: proxy.baseUrl,
    SMILE_CONFIG_DIR: '/nonexistent/smile-client-reliability',
    ...extra,
  };
}
