/** Redaction for --debug traces: signatures, keys and pre-signed URL secrets never reach a log. */

const SECRET_KEYS = new Set(['signature', 'api_key', 'apikey', 'sec_key', 'mac', 'token', 'authorization']);
const URL_SECRET_PARAMS = [
  'signature',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-credential',
  'awsaccesskeyid',
];

export const REDACTED = '[redacted]';

/** A URL with the query parameters of a pre-signed URL's secrets replaced. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    for (const key of [...url.searchParams.keys()]) {
      if (URL_SECRET_PARAMS.includes(key.toLowerCase())) url.searchParams.set(key, REDACTED);
    }
    return url.toString();
  } catch {
    return raw;
  }
}

/** A deep copy of a JSON value with secret fields, URLs' secrets and long base64 strings replaced. */
export function redactJson(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[…]';
  if (Array.isArray(value)) return value.map((item) => redactJson(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEYS.has(key.toLowerCase())) out[key] = REDACTED;
      else out[key] = redactJson(item, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string') {
    if (/^https?:\/\//i.test(value)) return redactUrl(value);
    if (value.length > 200 && /^[A-Za-z0-9+/=\r\n]+$/.test(value)) return `<base64 ${value.length} chars>`;
  }
  return value;
}

/**
 * XML error bodies of S3-style storage (the zip PUT) echo what was signed: `<SignatureProvided>`,
 * `<StringToSign>`, `<CanonicalRequest>` and the access key id. Their content is replaced.
 */
const XML_SECRET_ELEMENTS = [
  'SignatureProvided',
  'StringToSign',
  'StringToSignBytes',
  'CanonicalRequest',
  'CanonicalRequestBytes',
  'AWSAccessKeyId',
  'Signature',
  'X-Amz-Signature',
];

/** A non-JSON answer (S3 XML, HTML) for a trace: signing material and URL secrets replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const element of XML_SECRET_ELEMENTS) {
    out = out.replace(new RegExp(`<${element}>[\\s\\S]*?</${element}>`, 'g'), `<${element}>${REDACTED}</${element}>`);
  }
  out = out.replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url));
  // Query parameters of pre-signed URLs also appear HTML-escaped (`&amp;X-Amz-Signature=…`).
  return out.replace(
    /\b(x-amz-signature|x-amz-credential|x-amz-security-token|signature|awsaccesskeyid)=[^&\s"'<>]+/gi,
    (_match, key: string) => `${key}=${REDACTED}`,
  );
}

/** Remove every occurrence of the given secrets from a text (last line of defence for traces). */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** An answer body for a trace line: JSON redacted field by field, anything else redacted and cut at 300 characters. */
export function describeText(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const redacted = redactText(text);
    return redacted.length > 300 ? `${redacted.slice(0, 300)}… (${redacted.length} chars)` : redacted;
  }
  return JSON.stringify(redactJson(parsed));
}
