import type { RunContext, SmileConnection } from './context.js';
import { SmileClient } from './smile/client.js';
import type { SmileClientConfig } from './smile/client.js';
import { UsageError } from './errors.js';

/**
 * Resolve where to send requests and with which credentials: the in-process emulator with
 * --emulator, else flag > environment > profile (src/config). Loaded only by commands that talk
 * to Smile ID.
 */
export async function connectSmile(context: RunContext, overrides: { callbackUrl?: string; client?: Partial<SmileClientConfig> } = {}): Promise<{ connection: SmileConnection; apiKey: string }> {
  const { globals } = context;
  const clientOptions = (baseUrl: string, partnerId: string, apiKey: string): SmileClientConfig => ({
    baseUrl,
    partnerId,
    apiKey,
    trace: globals.debug ? (line: string) => context.trace(line) : undefined,
    onRetry: ({ label, attempt, delayMs, reason }) => context.out.info(context.out.paint('dim', `… ${label}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)}s`)),
    ...overrides.client,
  });

  if (globals.emulator) {
    if (globals.env === 'production') throw new UsageError('--emulator and --env production do not go together.', { hint: 'Drop one of them.' });
    const { startEmulator } = await import('./emulator/index.js');
    const emulator = await startEmulator({ port: 0, processingMs: Number(context.env['SMILE_EMULATOR_PROCESSING_MS'] ?? 800) });
    context.onCleanup(() => emulator.close());
    context.out.info(context.out.paint('dim', `▸ emulator · ${emulator.baseUrl} · partner ${emulator.partnerId} (no account needed; nothing leaves this machine)`));
    const client = new SmileClient(clientOptions(emulator.baseUrl, emulator.partnerId, emulator.apiKey));
    return {
      apiKey: emulator.apiKey,
      connection: { client, partnerId: emulator.partnerId, environment: 'sandbox', baseUrl: emulator.baseUrl, profileName: undefined, callbackUrl: overrides.callbackUrl, emulator },
    };
  }

  const { resolveSettings } = await import('./config/resolve.js');
  const settings = await resolveSettings({
    flags: {
      ...(globals.profile === undefined ? {} : { profile: globals.profile }),
      ...(globals.env === undefined ? {} : { env: globals.env }),
      ...(globals.baseUrl === undefined ? {} : { baseUrl: globals.baseUrl }),
      ...(overrides.callbackUrl === undefined ? {} : { callbackUrl: overrides.callbackUrl }),
    },
    env: context.env,
  });
  if (settings.environment === 'production') {
    context.out.stderr(`${context.out.paint('magenta', `▸ production · partner ${settings.partnerId}`)}\n`);
  }
  const client = new SmileClient(clientOptions(settings.baseUrl, settings.partnerId, settings.apiKey));
  return {
    apiKey: settings.apiKey,
    connection: { client, partnerId: settings.partnerId, environment: settings.environment, baseUrl: settings.baseUrl, profileName: settings.profileName, callbackUrl: settings.callbackUrl, emulator: undefined },
  };
}
