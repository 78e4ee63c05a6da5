/** The HTTP(S) server: routing, fault injection, request log, Date header. */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { EmulatorContext } from './context.js';
import type { FaultInjector } from './faults.js';
import { parseJsonBody, readBody, smileError, s3Error, type Reply } from './http.js';
import {
  handleJobStatus,
  handlePrepUpload,
  handleSelfieImage,
  handleServices,
  handleZipPut,
  RESULT_PATH_PREFIX,
  UPLOAD_PATH_PREFIX,
} from './routes.js';
import type { RequestLogEntry } from './state.js';

const JSON_BODY_LIMIT = 5 * 1024 * 1024;
const ZIP_BODY_LIMIT = 50 * 1024 * 1024;

export interface ServerDeps {
  ctx: EmulatorContext;
  faults: FaultInjector;
  tls?: { key: string; cert: string };
}

function send(ctx: EmulatorContext, res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  // Every answer carries the emulator's (possibly skewed) clock, for `smile doctor`'s skew check.
  res.sendDate = false;
  res.statusCode = reply.status;
  res.setHeader('Date', new Date(ctx.now()).toUTCString());
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body, 'utf8') : reply.body;
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}

/** Best-effort ids for the request log, from a body that may be anything. */
function idsOf(body: Record<string, unknown>): { userId?: string; jobId?: string } {
  const pp = body.partner_params;
  const source = pp !== null && typeof pp === 'object' && !Array.isArray(pp) ? (pp as Record<string, unknown>) : body;
  const ids: { userId?: string; jobId?: string } = {};
  if (typeof source.user_id === 'string') ids.userId = source.user_id;
  if (typeof source.job_id === 'string') ids.jobId = source.job_id;
  return ids;
}

/** The answer to a request whose changes could not be saved: a 500 in the style of the route. */
function unsavedReply(path: string, error: Error): Reply {
  const message = `System Error: ${error.message}`;
  return path.startsWith(UPLOAD_PATH_PREFIX)
    ? s3Error(500, 'InternalError', message)
    : smileError(500, '2201', message);
}

export function createEmulatorServer({ ctx, faults, tls }: ServerDeps): Server {
  const { state } = ctx;

  /** Faults, then the work, then maybe a drop after the work: the order the brief's retry tests rely on. */
  async function faulty(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RequestLogEntry,
    work: () => Reply,
  ): Promise<void> {
    const fault = faults.decide();
    if (fault.latencyMs > 0) await ctx.timers.sleep(fault.latencyMs);
    if (fault.drop) {
      entry.fault = 'drop';
      req.socket.destroy();
      return;
    }
    if (fault.rateLimit) {
      entry.fault = 'rate_limit';
      send(
        ctx,
        res,
        smileError(429, '2201', 'Rate limit exceeded', { 'Retry-After': String(faults.retryAfterSeconds) }),
      );
      return;
    }
    if (fault.error) {
      entry.fault = 'error';
      send(ctx, res, smileError(500, '2201', 'System Error'));
      return;
    }
    // Nothing is acknowledged before it is saved: while the state file cannot be written, requests
    // are answered 500 (and do nothing new while a backlog is unsaved).
    let reply: Reply;
    const backlog = state.saveFailure === null ? null : state.save();
    if (backlog) reply = unsavedReply(entry.path, backlog);
    else {
      reply = work();
      const unsaved = state.save();
      if (unsaved) reply = unsavedReply(entry.path, unsaved);
    }
    if (fault.dropAfterWork) {
      entry.fault = 'drop_after_work';
      req.socket.destroy();
      return;
    }
    send(ctx, res, reply);
  }

  async function route(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/v1/upload' || path === '/v1/job_status') {
      if (method !== 'POST') {
        req.resume();
        return send(ctx, res, {
          ...smileError(405, '2201', `Method ${method} not allowed on ${path}`),
          headers: { 'content-type': 'application/json', Allow: 'POST' },
        });
      }
      const received = await readBody(req, JSON_BODY_LIMIT);
      if (received.tooLarge) return send(ctx, res, smileError(413, '2204', 'Request body too large'));
      const parsed = parseJsonBody(received.bytes, req.headers['content-encoding']);
      if (parsed.ok) Object.assign(entry, idsOf(parsed.value));
      if (path === '/v1/upload' && entry.userId !== undefined && entry.jobId !== undefined)
        state.countPrepUpload(entry.userId, entry.jobId);
      const handler = path === '/v1/upload' ? handlePrepUpload : handleJobStatus;
      return faulty(req, res, entry, () => (parsed.ok ? handler(ctx, parsed.value) : parsed.reply));
    }
    if (path.startsWith(UPLOAD_PATH_PREFIX)) {
      const ref = /^\/_uploads\/([^/]+)\//.exec(path)?.[1];
      const job = ref === undefined ? undefined : state.jobByRef(ref);
      if (job) Object.assign(entry, { jobId: job.jobId, userId: job.userId });
      if (method !== 'PUT') {
        req.resume();
        return send(
          ctx,
          res,
          s3Error(
            403,
            'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided.',
          ),
        );
      }
      const received = await readBody(req, ZIP_BODY_LIMIT);
      if (received.tooLarge)
        return send(ctx, res, s3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'));
      return faulty(req, res, entry, () =>
        handleZipPut(ctx, path, url.searchParams, req.headers['content-type'], received.bytes),
      );
    }
    req.resume();
    if (method === 'GET' && path.startsWith(RESULT_PATH_PREFIX)) return send(ctx, res, handleSelfieImage(ctx, path));
    if (method === 'GET' && path === '/v1/services') return send(ctx, res, handleServices());
    return send(ctx, res, smileError(404, '404', `Not found: ${method} ${path}`));
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://emulator.invalid');
    } catch {
      url = new URL('http://emulator.invalid/');
    }
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      status: 0,
      at: new Date(ctx.now()).toISOString(),
    };
    state.logRequest(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    route(req, res, entry, url).catch(() => {
      // Never crash on any input: an unexpected failure is a 500 (or a closed socket if too late).
      if (!res.headersSent && !res.destroyed) send(ctx, res, smileError(500, '2201', 'System Error'));
      else res.destroy();
    });
  };

  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
  server.keepAliveTimeout = 30_000;
  // A malformed request line/header must not take anything down: answer 400 and close.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
