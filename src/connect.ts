import { SmileClient } from './smile/client.js';
import type { SmileClientConfig } from './smile/client.js';
import { emulatorConflict } from './config/validate.js';
import type { Environment } from './config/validate.js';
import type { Output } from './output/output.js';

/** A resolved connection to Smile ID (or the in-process emulator). */
export interface SmileConnection {
  client: SmileClient;
  partnerId: string;
  environment: Environment;
  baseUrl: string;
  profileName: string | undefined;
  callbackUrl: string | undefined;
  /** Set with --emulator: the in-process server, closed when the command ends. */
  emulator: { baseUrl: string; state: unknown; close(): Promise<void> } | undefined;
}

export interface ConnectOptions {
  callbackUrl?: string;
  /** A profile chosen after the flags were read (the guided form's picker); wins over --profile. */
  profile?: string;
  client?: Partial<SmileClientConfig>;
}

/** What connecting needs from the run: its flags and environment, where to tell the operator, cleanup. */
export interface ConnectHost {
  globals: {
    profile?: string | undefined;
    env?: string | undefined;
    baseUrl?: string | undefined;
    debug: boolean;
    emulator: boolean;
  };
  env: NodeJS.ProcessEnv;
  out: Output;
  trace(line: string): void;
  onCleanup(fn: () => Promise<void> | void): void;
}

/**
 * Resolve where to send requests and with which credentials: the in-process emulator with
 * --emulator, else flag > environment > profile (src/config). Loaded only by commands that talk
 * to Smile ID.
 */
export async function connectSmile(
  host: ConnectHost,
  overrides: ConnectOptions = {},
): Promise<{ connection: SmileConnection; apiKey: string }> {
  const { globals, out } = host;
  const clientOptions = (baseUrl: string, partnerId: string, apiKey: string): SmileClientConfig => ({
    baseUrl,
    partnerId,
    apiKey,
    trace: globals.debug ? (line: string) => host.trace(line) : undefined,
    onRetry: ({ label, attempt, delayMs, reason }) =>
      out.info(out.paint('dim', `… ${label}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)}s`)),
    ...overrides.client,
  });

  if (globals.emulator) {
    const conflict = emulatorConflict(globals);
    if (conflict) throw conflict;
    const { startEmulator } = await import('./emulator/index.js');
    const emulator = await startEmulator({
      port: 0,
      processingMs: Number(host.env['SMILE_EMULATOR_PROCESSING_MS'] ?? 800),
    });
    host.onCleanup(() => emulator.close());
    out.info(
      out.paint(
        'dim',
        `▸ emulator · ${emulator.baseUrl} · partner ${emulator.partnerId} (no account needed; nothing leaves this machine)`,
      ),
    );
    const client = new SmileClient(clientOptions(emulator.baseUrl, emulator.partnerId, emulator.apiKey));
    return {
      apiKey: emulator.apiKey,
      connection: {
        client,
        partnerId: emulator.partnerId,
        environment: 'sandbox',
        baseUrl: emulator.baseUrl,
        profileName: undefined,
        callbackUrl: overrides.callbackUrl,
        emulator,
      },
    };
  }

  const { resolveSettings, settingsFlags } = await import('./config/resolve.js');
  const settings = await resolveSettings({
    flags: settingsFlags({
      ...globals,
      profile: overrides.profile ?? globals.profile,
      callbackUrl: overrides.callbackUrl,
    }),
    env: host.env,
  });
  if (settings.environment === 'production') {
    out.stderr(`${out.paint('magenta', `▸ production · partner ${settings.partnerId}`)}\n`);
  }
  const client = new SmileClient(clientOptions(settings.baseUrl, settings.partnerId, settings.apiKey));
  return {
    apiKey: settings.apiKey,
    connection: {
      client,
      partnerId: settings.partnerId,
      environment: settings.environment,
      baseUrl: settings.baseUrl,
      profileName: settings.profileName,
      callbackUrl: settings.callbackUrl,
      emulator: undefined,
    },
  };
}
