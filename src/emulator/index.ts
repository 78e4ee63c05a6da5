/**
 * The local Smile ID emulator (smile-api.md §11): the v1 flow for job_type 4 on loopback, with signed
 * responses, callbacks and fault injection. Light to import: no sharp, no ink.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { FileLock } from '../fs/lock.js';
import { signedFields } from '../smile/sign.js';
import { UsageError, isSmileCliError } from '../errors.js';
import { CallbackSender } from './callbacks.js';
import type { EmulatorContext } from './context.js';
import { FaultInjector, type FaultOptions } from './faults.js';
import { scheduleJob } from './lifecycle.js';
import { DEFAULT_REJECT_CODE } from './outcomes.js';
import { createEmulatorServer } from './server.js';
import { EmulatorState, type EmulatorStateView } from './state.js';
import { stateWriteError } from './state-log.js';
import { TimerRegistry } from './timers.js';

export type { FaultOptions } from './faults.js';
export type {
  CallbackDelivery,
  EmulatorJob,
  EmulatorStateView,
  EmulatorUser,
  JobStatus,
  RequestLogEntry,
  ZipReceipt,
} from './state.js';
/** The read-only state view `RunningEmulator.state` exposes (the mutable class stays internal). */
export type { EmulatorStateView as EmulatorState } from './state.js';
export { JOB_NOT_FOUND } from './routes.js';

export const DEFAULT_PARTNER_ID = '085';
/** A throwaway credential that only this local emulator accepts; printing it is intended. */
export const DEFAULT_EMULATOR_API_KEY = 'emulator-only-fake-api-key-not-a-secret';
export const DEFAULT_PROCESSING_MS = 500;
export const DEFAULT_TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;

/** The lock that keeps a second emulator off a state file in use. */
const STATE_FILE_LOCK = {
  noun: 'state file',
  holder: 'smile emulator',
  code: 'state_file_locked',
  then: 'start the emulator again',
  why: 'Two emulators on one state file would interleave their changes.',
};

export interface EmulatorOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default "085". */
  partnerId?: string;
  /** Default DEFAULT_EMULATOR_API_KEY. */
  apiKey?: string;
  /** Time between the zip's arrival and its result; default 500 ms. */
  processingMs?: number;
  /** Time between a provisional result and its human-review result; default 2 × processingMs. */
  humanReviewMs?: number;
  /** Serve https with a locally generated CA + certificate for localhost/127.0.0.1. */
  tls?: boolean;
  /** Where the PEM files go (reused when still valid); default a fresh temp dir removed on close. */
  certDir?: string;
  /** Accepted distance between a request's timestamp and the emulator's clock; default 15 min. */
  timestampWindowMs?: number;
  /** Skews the emulator's clock (Date header, response timestamps, timestamp window). */
  clockSkewMs?: number;
  /**
   * Keep users and jobs in this file: an append-only JSONL log, compacted at start and as it grows,
   * with selfies as files in `<stateFile>.selfies/`. A version-1 whole-file state is migrated once.
   */
  stateFile?: string;
  /** Where notices about the state file go (a failed save, a migration); default stderr. */
  warn?: (message: string) => void;
  /** ResultCode of a rejected JT4 (`sandbox_result` "1"); default "0841" (UNVERIFIED: see outcomes.ts). */
  rejectCode?: string;
  faults?: FaultOptions;
  /** How many recent requests and callback deliveries `state` keeps; default 10,000 (memory stays bounded). */
  historyLimit?: number;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  /** e.g. http://127.0.0.1:PORT */
  origin: string;
  partnerId: string;
  apiKey: string;
  /** PEM of the CA to trust, with `tls`. */
  caCertPath?: string;
  /** Read-only view of jobs, users, request log and callback deliveries. */
  state: EmulatorStateView;
  /** Replaces the fault configuration (a given seed restarts the sequence). */
  setFaults(faults: FaultOptions): void;
  /** Stops listening, drops keep-alive connections, cancels timers and callbacks, saves what is unsaved (rejects, naming the file, when it cannot). */
  close(): Promise<void>;
}

/** Take the state file's lock (its directory made first); I/O failures are the state file's own. */
async function lockStateFile(file: string, warn: (line: string) => void): Promise<FileLock> {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw stateWriteError(file, error);
  }
  const { acquireFileLock } = await import('../fs/lock.js');
  try {
    return await acquireFileLock(file, {
      subject: STATE_FILE_LOCK,
      onStale: (owner, lockPath) =>
        warn(
          `Taking over the stale lock ${lockPath}: its emulator (pid ${owner.pid} on ${owner.host}) is no longer running.`,
        ),
    });
  } catch (error) {
    if (isSmileCliError(error) && error.code === STATE_FILE_LOCK.code) throw error;
    throw stateWriteError(file, (error as { cause?: unknown }).cause ?? error);
  }
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0)
    throw new UsageError(`Emulator option ${name} must be a number >= 0, got ${value}.`);
  return value;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the emulator and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`Emulator port must be 0-65535, got ${port}.`);
  const partnerId = options.partnerId ?? DEFAULT_PARTNER_ID;
  const apiKey = options.apiKey ?? DEFAULT_EMULATOR_API_KEY;
  const processingMs = nonNegative('processingMs', options.processingMs, DEFAULT_PROCESSING_MS);
  const humanReviewMs = nonNegative('humanReviewMs', options.humanReviewMs, 2 * processingMs);
  const timestampWindowMs = nonNegative('timestampWindowMs', options.timestampWindowMs, DEFAULT_TIMESTAMP_WINDOW_MS);
  const clockSkewMs = options.clockSkewMs ?? 0;
  if (!Number.isFinite(clockSkewMs)) throw new UsageError(`Emulator clockSkewMs must be a number, got ${clockSkewMs}.`);

  // One emulator per state file: two would interleave their logs. Held until close().
  const lock = options.stateFile
    ? await lockStateFile(options.stateFile, options.warn ?? ((line) => process.stderr.write(`${line}\n`)))
    : undefined;
  const state = new EmulatorState(options.stateFile, {
    ...(options.warn ? { warn: options.warn } : {}),
    ...(options.historyLimit !== undefined ? { historyLimit: options.historyLimit } : {}),
  });
  try {
    state.load();
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const timers = new TimerRegistry();
  const now = (): number => Date.now() + clockSkewMs;
  const callbacks = new CallbackSender(state, timers, () => signedFields(apiKey, partnerId, new Date(now())));
  const faults = new FaultInjector(options.faults ?? {});
  // selfsigned (and its x509 stack) loads only when TLS is asked for.
  let tls: Awaited<ReturnType<typeof import('./tls.js').prepareTls>> | undefined;
  try {
    tls = options.tls ? await (await import('./tls.js')).prepareTls(options.certDir) : undefined;
  } catch (error) {
    state.close();
    await lock?.release();
    throw error;
  }

  const ctx: EmulatorContext = {
    state,
    partnerId,
    apiKey,
    origin: '',
    processingMs,
    humanReviewMs,
    timestampWindowMs,
    rejectCode: options.rejectCode ?? DEFAULT_REJECT_CODE,
    now,
    timers,
    callbacks,
  };
  const server = createEmulatorServer({ ctx, faults, ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}) });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    timers.close();
    state.close();
    await lock?.release();
    if (tls?.temporary) rmSync(tls.dir, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(`Port ${port} on ${host} is already in use.`, {
        hint: 'Pass another --port, or --port 0 for any free port.',
        cause: error,
      });
    throw error;
  }
  const address = server.address() as AddressInfo;
  ctx.origin = `${tls ? 'https' : 'http'}://${urlHost(host)}:${address.port}`;
  // Jobs loaded from a state file pick up where they were.
  for (const job of state.jobs.values()) scheduleJob(ctx, job);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      timers.close();
      callbacks.close();
      server.close(() => resolve());
      server.closeAllConnections();
    })
      .then(() => {
        try {
          state.close();
        } finally {
          if (tls?.temporary) rmSync(tls.dir, { recursive: true, force: true });
        }
      })
      .finally(() => lock?.release());
    return closing;
  };

  return {
    baseUrl: `${ctx.origin}/v1`,
    origin: ctx.origin,
    partnerId,
    apiKey,
    ...(tls ? { caCertPath: tls.caCertPath } : {}),
    state,
    setFaults: (next) => faults.set(next),
    close,
  };
}

/** The faults asked for (only the rates and delays given), or undefined when none is. */
export function faultOptions(given: { [K in keyof FaultOptions]?: FaultOptions[K] | undefined }):
  FaultOptions | undefined {
  const faults = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as FaultOptions;
  return Object.keys(faults).length > 0 ? faults : undefined;
}

/**
 * Serves an emulator in the foreground: starts it, tells `onListening` where it is, and once
 * `signal` aborts closes it (saving what is unsaved) before resolving.
 */
export async function serveEmulator(
  options: EmulatorOptions,
  signal: AbortSignal,
  onListening: (emulator: RunningEmulator) => void,
): Promise<void> {
  const emulator = await startEmulator(options);
  try {
    onListening(emulator);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await emulator.close();
  }
}

/** What `smile emulator --json` prints when it listens (one line): where it is, and its throwaway credentials. */
export interface EmulatorDocument {
  base_url: string;
  partner_id: string;
  api_key: string;
  /** With `tls`: the CA certificate clients must trust. */
  ca_cert?: string;
}

export function emulatorDocument(emulator: RunningEmulator): EmulatorDocument {
  return {
    base_url: emulator.baseUrl,
    partner_id: emulator.partnerId,
    api_key: emulator.apiKey,
    ...(emulator.caCertPath ? { ca_cert: emulator.caCertPath } : {}),
  };
}

/** The lines for people beside the start line: what this is, the faults injected, the CA to trust, how to stop. */
export function emulatorNotes(emulator: RunningEmulator, faults: FaultOptions | undefined): string[] {
  const notes = ['Smile ID emulator running: local and fake, not Smile ID; its API key is a throwaway.'];
  if (faults)
    notes.push(
      `Fault injection on: ${Object.entries(faults)
        .map(([name, value]) => `${name}=${String(value)}`)
        .join(' ')}.`,
    );
  if (emulator.caCertPath) notes.push(`Clients must trust ${emulator.caCertPath} (e.g. NODE_EXTRA_CA_CERTS).`);
  notes.push('Stop it with Ctrl-C.');
  return notes;
}
