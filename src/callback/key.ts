import { emulatorConflict } from '../config/validate.js';
import type { Environment } from '../config/validate.js';

/** The key a callback must be signed with. */
export interface CallbackKey {
  apiKey: string;
  partnerId: string;
  environment: Environment;
  /** How the environment is shown ("sandbox", "production", "emulator"). */
  label: string;
}

/** What choosing the key needs from the run: its settings flags and environment variables. */
export interface CallbackKeyHost {
  globals: { emulator: boolean; profile?: string | undefined; env?: string | undefined; baseUrl?: string | undefined };
  env: NodeJS.ProcessEnv;
}

/**
 * The key callbacks must verify with: the emulator's throwaway key with --emulator (no emulator
 * is started: its key is fixed), else flag > env > profile. Nothing is sent anywhere.
 */
export async function callbackKey(host: CallbackKeyHost): Promise<CallbackKey> {
  const { globals } = host;
  if (globals.emulator) {
    const conflict = emulatorConflict(globals);
    if (conflict) throw conflict;
    const { DEFAULT_EMULATOR_API_KEY, DEFAULT_PARTNER_ID } = await import('../emulator/index.js');
    return {
      apiKey: DEFAULT_EMULATOR_API_KEY,
      partnerId: DEFAULT_PARTNER_ID,
      environment: 'sandbox',
      label: 'emulator',
    };
  }
  const { resolveSettings, settingsFlags } = await import('../config/resolve.js');
  const settings = await resolveSettings({ flags: settingsFlags(globals), env: host.env });
  return {
    apiKey: settings.apiKey,
    partnerId: settings.partnerId,
    environment: settings.environment,
    label: settings.environment,
  };
}
