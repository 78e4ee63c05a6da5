/** Shared pieces of the security suite: a marked key, a recording proxy, a file walker, the secret search. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';

/** A key that is easy to find anywhere it leaks to (and long enough to be scrubbed). */
export const MARKED_KEY = 'KEY-MARKER-5f1c7a3e9d2b4c6f8a0e1d3c5b7a9f2e';
/** Any base64 SHA-256 HMAC (a Smile ID signature): 43 base64 characters and one `=`. */
export const SIGNATURE_SHAPE = /[A-Za-z0-9+/]{43}=/;

export interface RecordingProxy {
  /** The v1 base URL through the proxy. */
  baseUrl: string;
  /** Every `signature` seen in a request or response body. */
  signatures: Set<string>;
  /** Change a response before it goes back (tampering tests). */
  rewrite: ((path: string, body: Record<string, unknown>) => Record<string, unknown>) | undefined;
  close(): Promise<void>;
}

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function noteSignature(text: string, into: Set<string>): void {
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed && typeof parsed['signature'] === 'string') into.add(parsed['signature']);
  } catch {
    // not JSON: nothing to note
  }
}

/** A proxy in front of the emulator's JSON endpoints that notes every signature on the wire. */
export async function recordingProxy(targetOrigin: string): Promise<RecordingProxy> {
  const signatures = new Set<string>();
  const proxy: RecordingProxy = { baseUrl: '', signatures, rewrite: undefined, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await collect(req);
      noteSignature(body.toString('utf8'), signatures);
      const response = await fetch(`${targetOrigin}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
        ...(body.length > 0 ? { body } : {}),
      });
      let text = await response.text();
      noteSignature(text, signatures);
      if (proxy.rewrite) {
        try {
          text = JSON.stringify(proxy.rewrite(req.url ?? '/', JSON.parse(text) as Record<string, unknown>));
        } catch {
          // leave non-JSON answers alone
        }
      }
      res.writeHead(response.status, {
        'content-type': response.headers.get('content-type') ?? 'application/json',
        date: response.headers.get('date') ?? new Date().toUTCString(),
      });
      res.end(text);
    })().catch((error: unknown) => {
      res.statusCode = 502;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}

/** Every regular file under `dir`, with its content (binary files as latin1, so bytes still match). */
export async function filesUnder(dir: string): Promise<{ path: string; content: string }[]> {
  const found: { path: string; content: string }[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.push({ path, content: (await readFile(path)).toString('latin1') });
    }
  };
  if ((await stat(dir).catch(() => undefined))?.isDirectory()) await walk(dir);
  return found;
}

/** Fails with the place where any secret (or a signature-shaped string) appears. */
export function expectNoSecrets(where: string, text: string, secrets: Iterable<string>): void {
  for (const secret of secrets) {
    if (secret === '') continue;
    expect(text.includes(secret), `${where} contains a secret: ${secret.slice(0, 12)}…`).toBe(false);
  }
  const shaped = SIGNATURE_SHAPE.exec(text);
  expect(shaped?.[0], `${where} contains a signature-shaped string`).toBeUndefined();
}
