/**
 * Network failures in plain words: the one table of Node's and undici's error codes, for the
 * client's retry lines and errors and for doctor's DNS, TCP, TLS and HTTP probes.
 */

const NETWORK_ERROR_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found in DNS',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ECONNRESET: 'the connection was dropped',
  UND_ERR_SOCKET: 'the connection was dropped',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
};

/** The error code of a failure or of its causes (fetch wraps the socket's error in `cause`). */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** "connection refused (ECONNREFUSED)"; an unlisted code: the failure's own message and its code. */
export function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  const words = code === undefined ? undefined : NETWORK_ERROR_WORDS[code];
  if (words !== undefined) return `${words} (${code})`;
  // fetch's own message is "fetch failed"; what went wrong is in its cause.
  const message =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  if (code && /CERT|SSL|TLS/i.test(code)) return `TLS error: ${message} (${code})`;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
