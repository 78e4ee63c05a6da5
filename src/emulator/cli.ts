/** `smile emulator`: start the emulator, print how to reach it, serve until the signal aborts. */
import { startEmulator, type EmulatorOptions } from './index.js';

export interface EmulatorCommandOptions {
  port?: number;
  host?: string;
  partnerId?: string;
  apiKey?: string;
  processingMs?: number;
  tls?: boolean;
  json?: boolean;
  faultRate?: number;
  dropRate?: number;
  rateLimitRate?: number;
  retryAfter?: number;
  latencyMs?: number;
  stateFile?: string;
  clockSkewMs?: number;
}

export interface EmulatorCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Runs the emulator in the foreground; resolves 0 once `io.signal` aborts and the server has closed. */
export async function runEmulatorCommand(opts: EmulatorCommandOptions, io: EmulatorCommandIo): Promise<number> {
  const faults = defined({ errorRate: opts.faultRate, dropRate: opts.dropRate, rateLimitRate: opts.rateLimitRate, retryAfterSeconds: opts.retryAfter, latencyMs: opts.latencyMs });
  const options: EmulatorOptions = defined({
    port: opts.port,
    host: opts.host,
    partnerId: opts.partnerId,
    apiKey: opts.apiKey,
    processingMs: opts.processingMs,
    tls: opts.tls,
    stateFile: opts.stateFile,
    clockSkewMs: opts.clockSkewMs,
    faults: Object.keys(faults).length > 0 ? faults : undefined,
    warn: (message: string) => {
      io.stderr.write(`${message}\n`);
    },
  });
  const emulator = await startEmulator(options);
  try {
    if (opts.json) {
      const line: Record<string, string> = { base_url: emulator.baseUrl, partner_id: emulator.partnerId, api_key: emulator.apiKey };
      if (emulator.caCertPath) line.ca_cert = emulator.caCertPath;
      io.stdout.write(`${JSON.stringify(line)}\n`);
    } else {
      const ca = emulator.caCertPath ? `  ca_cert=${emulator.caCertPath}` : '';
      io.stdout.write(`${emulator.baseUrl}  partner_id=${emulator.partnerId}  api_key=${emulator.apiKey}${ca}\n`);
    }
    const notes = ['Smile ID emulator running: local and fake, not Smile ID; its API key is a throwaway.'];
    if (options.faults) notes.push(`Fault injection on: ${Object.entries(options.faults).map(([k, v]) => `${k}=${String(v)}`).join(' ')}.`);
    if (emulator.caCertPath) notes.push(`Clients must trust ${emulator.caCertPath} (e.g. NODE_EXTRA_CA_CERTS).`);
    notes.push('Stop it with Ctrl-C.');
    io.stderr.write(`${notes.join('\n')}\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await emulator.close();
  }
  return 0;
}
