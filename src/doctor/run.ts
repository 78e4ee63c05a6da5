/**
 * `smile doctor`: every check in order — the settings (or --emulator's), then DNS, TCP, TLS and a
 * signed round trip, each skipped when one it depends on failed — as one report.
 */
import { CancelledError } from '../errors.js';
import { describeNetworkError } from '../http/network-error.js';
import { check, lookupAddresses, signedRoundTrip, tcpConnect, tlsHandshake } from './probes.js';
import type { CheckStatus, DoctorCheck, DoctorTarget } from './probes.js';
import { emulatorTarget, settingsTarget } from './settings.js';
import type { DoctorSettingsHost } from './settings.js';

/** `smile doctor --json`: `ok` is false when a check fails (exit 3); a `warn` keeps it true. */
export interface DoctorReport {
  ok: boolean;
  checks: { name: string; ok: boolean; status: CheckStatus; detail: string; fix?: string }[];
}

/** What doctor needs from the run: its settings flags, where to trace, when to stop, cleanup. */
export interface DoctorHost extends DoctorSettingsHost {
  globals: DoctorSettingsHost['globals'] & { emulator: boolean };
  signal: AbortSignal;
  trace(line: string): void;
}

/** Run every check in order; the report says whether anything blocks use. */
export async function runDoctor(ctx: DoctorHost): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const target = ctx.globals.emulator ? await emulatorTarget(ctx, checks) : await settingsTarget(ctx, checks);
  if (target) checks.push(...(await networkChecks(ctx, target)));
  if (ctx.signal.aborted) throw new CancelledError('Interrupted: doctor stopped before all checks ran.');
  return doctorReport(checks);
}

export function doctorReport(checks: readonly DoctorCheck[]): DoctorReport {
  return {
    ok: !checks.some((item) => item.status === 'fail'),
    checks: checks.map((item) => ({
      name: item.name,
      ok: item.status === 'pass',
      status: item.status,
      detail: item.detail,
      ...(item.fix === undefined ? {} : { fix: item.fix }),
    })),
  };
}

/** One line per check (✓ ! ✗ –) with its fix, then the verdict. */
export function renderDoctorReport(
  { checks }: DoctorReport,
  paint: (color: 'green' | 'yellow' | 'red' | 'dim', text: string) => string,
): string {
  const symbols = {
    pass: paint('green', '✓'),
    warn: paint('yellow', '!'),
    fail: paint('red', '✗'),
    skip: paint('dim', '–'),
  };
  const width = Math.max(...checks.map((item) => item.name.length));
  const lines: string[] = [];
  for (const item of checks) {
    lines.push(`${symbols[item.status]} ${item.name.padEnd(width)}  ${item.detail}`);
    if (item.fix && item.status !== 'pass') lines.push(`  ${' '.repeat(width)}  → ${item.fix}`);
  }
  const failed = checks.filter((item) => item.status === 'fail').length;
  const warned = checks.filter((item) => item.status === 'warn').length;
  if (failed > 0)
    lines.push(
      `${failed} problem${failed === 1 ? '' : 's'} block${failed === 1 ? 's' : ''} use: fix the ✗ lines above, then run \`smile doctor\` again.`,
    );
  else if (warned > 0)
    lines.push(`Ready to use; ${warned} warning${warned === 1 ? '' : 's'} worth fixing (! lines above).`);
  else lines.push('Ready: every check passed.');
  return lines.join('\n');
}

async function networkChecks(ctx: DoctorHost, target: DoctorTarget): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const url = new URL(target.baseUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const tlsUsed = url.protocol === 'https:';
  const port = Number(url.port || (tlsUsed ? 443 : 80));
  const skipAll = (reason: string) => {
    for (const name of ['dns', 'tcp', 'tls', 'clock', 'round_trip']) {
      if (!checks.some((item) => item.name === name)) checks.push(check(name, 'skip', `skipped: ${reason}`));
    }
    return checks;
  };

  const { isIP, isIPv6 } = await import('node:net');
  let addresses: string[];
  try {
    addresses = await lookupAddresses(host);
  } catch (error) {
    checks.push(
      check(
        'dns',
        'fail',
        `cannot resolve ${host}: ${describeNetworkError(error)}`,
        'Check the host in the base URL, and your network, DNS, VPN or proxy settings.',
      ),
    );
    return skipAll('the host did not resolve');
  }
  checks.push(
    isIP(host) !== 0
      ? check('dns', 'pass', `${host} is an IP address: no lookup needed`)
      : check(
          'dns',
          'pass',
          `${host} → ${addresses.slice(0, 3).join(', ')}${addresses.length > 3 ? ` (+${addresses.length - 3})` : ''}`,
        ),
  );

  let connected: string | undefined;
  let lastError: unknown;
  for (const address of addresses) {
    try {
      const ms = await tcpConnect(address, port, ctx.signal);
      connected = address;
      checks.push(
        check('tcp', 'pass', `connected to ${isIPv6(address) ? `[${address}]` : address}:${port} in ${ms} ms`),
      );
      break;
    } catch (error) {
      lastError = error;
      if (ctx.signal.aborted) return skipAll('interrupted');
    }
  }
  if (connected === undefined) {
    checks.push(
      check(
        'tcp',
        'fail',
        `cannot connect to ${host}:${port}: ${describeNetworkError(lastError)}`,
        `Check that a firewall or proxy lets this machine reach ${host} on port ${port}${url.hostname === '127.0.0.1' || host === 'localhost' ? ' (is the emulator running?)' : ''}.`,
      ),
    );
    return skipAll(`no connection to ${host}:${port}`);
  }

  if (!tlsUsed) {
    checks.push(check('tls', 'skip', 'plain http on loopback: no TLS to check'));
  } else {
    try {
      checks.push(check('tls', 'pass', await tlsHandshake(connected, host, port, ctx.signal)));
    } catch (error) {
      checks.push(
        check(
          'tls',
          'fail',
          `TLS handshake with ${host} failed: ${describeNetworkError(error)}`,
          'If a TLS-inspecting proxy sits in between, point NODE_EXTRA_CA_CERTS at its CA certificate (for `smile emulator --tls`, at the printed ca_cert); check the system clock too (certificates have validity dates).',
        ),
      );
      return skipAll('no TLS connection');
    }
  }

  if (target.apiKey === undefined || target.partnerId === undefined) {
    checks.push(
      check('clock', 'skip', 'skipped: the clock is compared on the signed round trip, which needs credentials'),
    );
    checks.push(check('round_trip', 'skip', 'skipped: no credentials to sign with'));
    return checks;
  }
  const trip = await signedRoundTrip(ctx, target as DoctorTarget & { apiKey: string; partnerId: string });
  checks.push(trip.clock, trip.roundTrip);
  return checks;
}
