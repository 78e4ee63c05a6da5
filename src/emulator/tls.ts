/** A local CA and a `localhost`/`127.0.0.1` server certificate for `--tls` (the official SDKs insist on https). */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** PEM of the CA that signed `cert`: what clients trust (NODE_EXTRA_CA_CERTS, curl --cacert). */
  caCertPath: string;
  dir: string;
  /** True when `dir` is a temp dir made here (removed again on close). */
  temporary: boolean;
}

const FILES = { ca: 'ca.pem', cert: 'cert.pem', key: 'key.pem' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Reuses a still-valid certificate in `certDir` (so clients keep trusting it across restarts), else makes one. */
export async function prepareTls(certDir?: string): Promise<TlsMaterial> {
  const dir = certDir ?? mkdtempSync(join(tmpdir(), 'smile-emulator-tls-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = { ca: join(dir, FILES.ca), cert: join(dir, FILES.cert), key: join(dir, FILES.key) };
  const temporary = certDir === undefined;
  if (!temporary && existsSync(paths.ca) && existsSync(paths.cert) && existsSync(paths.key)) {
    try {
      const cert = readFileSync(paths.cert, 'utf8');
      const key = readFileSync(paths.key, 'utf8');
      const x509 = new X509Certificate(cert);
      if (Date.parse(x509.validTo) - Date.now() > DAY_MS && x509.checkHost('localhost') && x509.checkIP('127.0.0.1')) {
        return { key, cert, caCertPath: paths.ca, dir, temporary };
      }
    } catch {
      // unreadable or foreign files: make new ones below
    }
  }
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const notAfterDate = new Date(Date.now() + 365 * DAY_MS);
  const ca = await generate([{ name: 'commonName', value: 'smile emulator local CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeFileSync(paths.ca, ca.cert, { mode: 0o644 });
  writeFileSync(paths.cert, leaf.cert, { mode: 0o644 });
  writeFileSync(paths.key, leaf.private, { mode: 0o600 });
  return { key: leaf.private, cert: leaf.cert, caCertPath: paths.ca, dir, temporary };
}
