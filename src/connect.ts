import { SmileClient } from './smile/client.js';
import type { SmileClientConfig } from './smile/client.js';
import { emulatorConflict } from './config/validate.js';
import type { Environment } from './config/validate.js';
import type { CredentialStoreInfo } from './config/credentials.js';
import type { Source } from './config/resolve.js';
import type { Output } from './output/output.js';

/** What the context line of a run says: where requests go, as whom. */
export interface RunTarget {
  environment: Environment;
  partnerId: string | undefined;
  profileName: string | undefined;
  baseUrl: string;
  /** Where the base URL came from; `default` is the environment's own Smile ID host. */
  baseUrlSource: Source;
}

const BASE_URL_ORIGINS: Partial<Record<Source, string>> = {
  flag: '--base-url',
  env: 'SMILE_BASE_URL',
  profile: 'the profile',
};

/**
 * The one context line of a run that talks to an API (product.md "Output"):
 * `▸ production · partner 085 · profile prod · api.smileidentity.com`. A base URL that is not the
 * environment's default is shown whole and called custom, with where it came from.
 */
export function contextLine(target: RunTarget): string {
  const who = target.profileName === undefined ? 'no profile (environment variables)' : `profile ${target.profileName}`;
  const where =
    target.baseUrlSource === 'default'
      ? new URL(target.baseUrl).host
      : `custom base URL ${target.baseUrl}${BASE_URL_ORIGINS[target.baseUrlSource] ? ` (from ${BASE_URL_ORIGINS[target.baseUrlSource]})` : ''}`;
  return `▸ ${target.environment} · partner ${target.partnerId ?? '(none)'} · ${who} · ${where}`;
}

/** Prints the context line on stderr (production in magenta), except with --quiet or --json. */
export function printContextLine(out: Output, target: RunTarget): void {
  if (out.json) return;
  out.info(out.paint(target.environment === 'production' ? 'magenta' : 'dim', contextLine(target)));
}

/** Says on stderr that stored keys moved from credentials.json into the OS keyring, or could not. */
export function reportKeyMigration(out: Output, store: CredentialStoreInfo): void {
  if (store.migrated.length > 0)
    out.info(
      `Moved the stored API key${store.migrated.length === 1 ? '' : 's'} of ${store.migrated.join(', ')} from credentials.json into ${store.location}.`,
    );
  for (const { profile, reason } of store.notMigrated)
    out.warn(`The API key of profile ${profile} stays in credentials.json: ${store.location} refused it (${reason}).`);
}

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
    if (!out.json)
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
    onKeyStore: (store) => reportKeyMigration(out, store),
  });
  // One line for every environment; production's used to be a banner of its own.
  printContextLine(out, {
    environment: settings.environment,
    partnerId: settings.partnerId,
    profileName: settings.profileName,
    baseUrl: settings.baseUrl,
    baseUrlSource: settings.sources.baseUrl,
  });
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
