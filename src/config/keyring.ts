/**
 * The OS keyring as a SecretBackend (macOS Keychain, Windows Credential Manager, the Secret Service
 * of GNOME Keyring / KWallet on Linux), through `@napi-rs/keyring`: prebuilt binaries shipped in
 * npm packages, loaded only when a stored key is read or written.
 */
/**
 * A store of secrets by account name: the OS keyring (src/config/keyring.ts), or in tests a real
 * in-memory one. `get` is undefined when there is no entry; every method may throw when the store
 * cannot be reached (locked, no D-Bus, timed out).
 */
export interface SecretBackend {
  /** `Secret Service`, `macOS Keychain`, `Windows Credential Manager` … */
  readonly name: string;
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/** How long one keyring call may take before the keyring counts as unavailable (a hung D-Bus, a prompt). */
const KEYRING_TIMEOUT_MS = 5_000;

/** The name entries are filed under in the keyring (the "service"). */
export const KEYRING_SERVICE = 'smile';

function platformStoreName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // One line, without the library's "Platform failure:" prefixes repeated.
  return message.split('\n')[0]!.trim() || 'unknown error';
}

/**
 * Opens the OS keyring and checks that it answers (one read of an entry that does not exist).
 * Returns the backend, or the reason it cannot be used. On Linux only the Secret Service is used,
 * never the kernel keyring (keyutils), whose entries vanish at logout or reboot: a key stored
 * there would be lost.
 */
export async function openOsKeyring(
  platform: NodeJS.Platform = process.platform,
): Promise<{ backend: SecretBackend; reason?: undefined } | { backend?: undefined; reason: string }> {
  let AsyncEntry: typeof import('@napi-rs/keyring').AsyncEntry;
  try {
    ({ AsyncEntry } = await import('@napi-rs/keyring'));
  } catch (error) {
    return { reason: `the keyring module did not load on this platform (${reasonOf(error)})` };
  }
  const options = platform === 'linux' ? { linux: { store: 'secret-service' as const } } : undefined;
  const entry = (account: string) => new AsyncEntry(KEYRING_SERVICE, account, options);
  const timeout = () => AbortSignal.timeout(KEYRING_TIMEOUT_MS);
  const backend: SecretBackend = {
    name: platformStoreName(platform),
    async get(account) {
      return (await entry(account).getPassword(timeout())) ?? undefined;
    },
    async set(account, secret) {
      await entry(account).setPassword(secret, timeout());
    },
    async delete(account) {
      return entry(account).deleteCredential(timeout());
    },
  };
  try {
    await backend.get('smile-probe (nothing is stored under this name)');
  } catch (error) {
    return { reason: `the ${backend.name} did not answer: ${reasonOf(error)}` };
  }
  return { backend };
}
