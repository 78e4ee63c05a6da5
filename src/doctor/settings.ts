/**
 * The checks of `smile doctor` before any probe: which profile, environment, partner id, key and
 * base URL the run would use and where each came from (with --emulator: the in-process emulator's).
 * They give the target of the probes.
 */
import type { CredentialStoreInfo } from '../config/credentials.js';
import type { PartialSettings, Source } from '../config/resolve.js';
import type { Output } from '../output/output.js';
import { isSmileCliError } from '../errors.js';
import { shellQuote } from '../output/shell.js';
import { emulatorConflict } from '../config/validate.js';
import { check } from './probes.js';
import type { DoctorCheck, DoctorTarget } from './probes.js';

/** What the settings checks need from the run. */
export interface DoctorSettingsHost {
  globals: { profile?: string | undefined; env?: string | undefined; baseUrl?: string | undefined };
  env: NodeJS.ProcessEnv;
  onCleanup(fn: () => Promise<void> | void): void;
  /** Where the context line goes (stderr; not with --quiet/--json). */
  out?: Output;
}

/** --emulator: an in-process emulator with its own throwaway credentials is the target. */
export async function emulatorTarget(
  ctx: DoctorSettingsHost,
  checks: DoctorCheck[],
): Promise<DoctorTarget | undefined> {
  const conflict = emulatorConflict({ emulator: true, env: ctx.globals.env });
  if (conflict) {
    checks.push(check('settings', 'fail', conflict.message, conflict.hint));
    return undefined;
  }
  const { startEmulator } = await import('../emulator/index.js');
  const emulator = await startEmulator({ port: 0 });
  ctx.onCleanup(() => emulator.close());
  if (ctx.out !== undefined && !ctx.out.json)
    ctx.out.info(ctx.out.paint('dim', `▸ emulator · ${emulator.baseUrl} · partner ${emulator.partnerId}`));
  checks.push(
    check('profile', 'pass', 'none: --emulator runs an in-process emulator with its own throwaway credentials'),
  );
  checks.push(check('environment', 'pass', 'sandbox (emulator)'));
  checks.push(check('partner_id', 'pass', `${emulator.partnerId} (the emulator's)`));
  checks.push(check('credentials', 'pass', "the emulator's throwaway API key (not a Smile ID key)"));
  checks.push(check('base_url', 'pass', `${emulator.baseUrl} (http on loopback: the local emulator)`));
  return { baseUrl: emulator.baseUrl, environment: 'sandbox', partnerId: emulator.partnerId, apiKey: emulator.apiKey };
}

const SOURCE_LABELS: Record<string, Partial<Record<Source, string>>> = {
  profile: { flag: '--profile', env: 'SMILE_PROFILE', default: 'the current profile (smile profile use)' },
  environment: { flag: '--env', env: 'SMILE_ENV', profile: 'the profile', default: 'the default' },
  partnerId: { env: 'SMILE_PARTNER_ID', profile: 'the profile' },
  baseUrl: { flag: '--base-url', env: 'SMILE_BASE_URL', profile: 'the profile', default: "the environment's default" },
};

function from(setting: keyof typeof SOURCE_LABELS, source: Source | undefined): string {
  return source === undefined ? '' : ` (from ${SOURCE_LABELS[setting]?.[source] ?? source})`;
}

/** The target the run's settings give (flag > env > profile), one check per setting. */
export async function settingsTarget(
  ctx: DoctorSettingsHost,
  checks: DoctorCheck[],
): Promise<DoctorTarget | undefined> {
  const { resolveSettings, settingsFlags } = await import('../config/resolve.js');
  let settings: PartialSettings;
  let store: CredentialStoreInfo | undefined;
  try {
    settings = await resolveSettings({
      flags: settingsFlags(ctx.globals),
      env: ctx.env,
      partial: true,
      onKeyStore: (info) => (store = info),
    });
  } catch (error) {
    if (!isSmileCliError(error)) throw error;
    checks.push(check('settings', 'fail', error.message, error.hint ?? 'Fix the setting named above.'));
    return undefined;
  }
  if (ctx.out !== undefined) {
    const { printContextLine, reportKeyMigration } = await import('../connect.js');
    if (store !== undefined) reportKeyMigration(ctx.out, store);
    printContextLine(ctx.out, {
      environment: settings.environment,
      partnerId: settings.partnerId,
      profileName: settings.profileName,
      baseUrl: settings.baseUrl,
      baseUrlSource: settings.sources.baseUrl,
    });
  }

  checks.push(
    settings.profileName === undefined
      ? check('profile', 'pass', 'none: settings come from flags and environment variables')
      : check('profile', 'pass', `"${settings.profileName}"${from('profile', settings.sources.profile)}`),
  );
  checks.push(
    check(
      'environment',
      'pass',
      `${settings.environment}${from('environment', settings.sources.environment)}${settings.environment === 'production' ? ': real registrations' : ''}`,
    ),
  );
  const addProfile = `smile profile add ${settings.profileName ?? 'NAME'} --partner-id ID --env ${settings.environment}${settings.profileName === undefined ? '' : ' --force'}`;
  checks.push(
    settings.partnerId === undefined
      ? check(
          'partner_id',
          'fail',
          'no partner id: no profile gives one and SMILE_PARTNER_ID is not set',
          `Run \`${addProfile}\`, or set SMILE_PARTNER_ID.`,
        )
      : check('partner_id', 'pass', `${settings.partnerId}${from('partnerId', settings.sources.partnerId)}`),
  );
  checks.push(await credentialsCheck(settings, addProfile, ctx.env, store));
  checks.push(baseUrlCheck(settings));
  return {
    baseUrl: settings.baseUrl,
    environment: settings.environment,
    partnerId: settings.partnerId,
    apiKey: settings.apiKey,
  };
}

async function credentialsCheck(
  settings: PartialSettings,
  addProfile: string,
  env: NodeJS.ProcessEnv,
  store: CredentialStoreInfo | undefined,
): Promise<DoctorCheck> {
  if (settings.apiKey === undefined) {
    return check(
      'credentials',
      'fail',
      `no API key: none stored for the profile${store === undefined ? '' : ` in ${store.location}`}, and SMILE_API_KEY / SMILE_API_KEY_FILE are not set`,
      `Run \`${addProfile}\` (it asks for the key without echo), or set SMILE_API_KEY_FILE to a file holding it.`,
    );
  }
  const { credentialsFileMode, formatMode } = await import('../config/credentials.js');
  switch (settings.sources.apiKey) {
    case 'env':
      return check('credentials', 'pass', 'API key from SMILE_API_KEY');
    case 'file': {
      const file = env['SMILE_API_KEY_FILE']?.trim() ?? '';
      const { fileMode } = await import('../config/paths.js');
      const mode = process.platform === 'win32' ? undefined : await fileMode(file).catch(() => undefined);
      if (mode !== undefined && (mode & 0o077) !== 0) {
        return check(
          'credentials',
          'warn',
          `API key from SMILE_API_KEY_FILE ${file}, whose mode ${formatMode(mode)} lets others read it`,
          `chmod 600 ${shellQuote(file)}`,
        );
      }
      return check(
        'credentials',
        'pass',
        `API key from SMILE_API_KEY_FILE ${file}${mode === undefined ? '' : ` (mode ${formatMode(mode)})`}`,
      );
    }
    default: {
      const status = await credentialsFileMode(settings.configDir);
      const profile = `API key of profile "${settings.profileName ?? '?'}"`;
      const { getApiKey } = await import('../config/credentials.js');
      const inFile = status.exists && (await getApiKey(settings.configDir, settings.profileName ?? '')) !== undefined;
      if (store?.store === 'keyring' && !inFile) {
        const moved = store.migrated.includes(settings.profileName ?? '')
          ? ' (moved there from credentials.json just now)'
          : '';
        return check('credentials', 'pass', `${profile} from ${store.location}${moved}`);
      }
      // The file: the fallback store, or a key the keyring refused (it stays in the file).
      const refused = store?.notMigrated.find((item) => item.profile === settings.profileName);
      const why =
        store?.store === 'file' && store.fileReason !== undefined
          ? `; not the OS keyring: ${store.fileReason}`
          : refused !== undefined
            ? `; ${store?.location ?? 'the OS keyring'} refused it: ${refused.reason}`
            : '';
      const where = `${profile} from ${status.path}`;
      if (status.tooOpen && status.mode !== undefined) {
        return check(
          'credentials',
          'warn',
          `${where}, whose mode ${formatMode(status.mode)} lets others read it (should be 0600)`,
          `chmod 600 ${shellQuote(status.path)}`,
        );
      }
      if (status.dirTooOpen && status.dirMode !== undefined) {
        return check(
          'credentials',
          'warn',
          `${where}; its directory has mode ${formatMode(status.dirMode)} (should be 0700)`,
          `chmod 700 ${shellQuote(settings.configDir)}`,
        );
      }
      return check(
        'credentials',
        'pass',
        `${where}${status.mode === undefined ? '' : ` (mode ${formatMode(status.mode)})`}${why}`,
      );
    }
  }
}

function baseUrlCheck(settings: PartialSettings): DoctorCheck {
  const url = new URL(settings.baseUrl);
  const origin = from('baseUrl', settings.sources.baseUrl);
  if (url.protocol === 'https:') return check('base_url', 'pass', `${settings.baseUrl}${origin}`);
  // resolveSettings refuses plain http except for loopback hosts outside production.
  return check(
    'base_url',
    'pass',
    `${settings.baseUrl}${origin}: plain http, allowed only because the host is loopback (a local emulator)`,
  );
}
