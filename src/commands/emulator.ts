import { decimal, defineCommand, flag, text, wholeNumber } from './define.js';

export default defineCommand({
  name: 'emulator',
  summary: 'run a local Smile ID-compatible server (v1 flow, callbacks, faults)',
  options: {
    port: wholeNumber('--port <n>', 'port (0 = any free port)', 0),
    host: text('--host <host>', 'address to listen on', '127.0.0.1'),
    partnerId: text('--partner-id <id>', 'partner id the emulator accepts'),
    apiKey: text('--api-key <key>', "the emulator's own throwaway key (not a Smile ID key)"),
    processingMs: wholeNumber('--processing-ms <ms>', 'how long a job takes'),
    tls: flag('--tls', 'serve https with a self-signed certificate (path printed)'),
    stateFile: text(
      '--state-file <path>',
      'keep users and jobs in this append-only log (compacted as it grows; selfies in PATH.selfies/), saved before each answer',
    ),
    faultRate: decimal('--fault-rate <rate>', 'share of requests answered 500 (0..1)'),
    dropRate: decimal('--drop-rate <rate>', 'share of connections dropped (0..1)'),
    rateLimitRate: decimal('--rate-limit-rate <rate>', 'share of requests answered 429 (0..1)'),
    retryAfter: wholeNumber('--retry-after <seconds>', 'Retry-After of those 429s'),
    latencyMs: wholeNumber('--latency <ms>', 'added latency per request'),
    clockSkewMs: decimal('--clock-skew-ms <ms>', 'skew the Date header and timestamps (doctor tests)'),
  },
  examples: [
    'smile emulator --port 8080',
    'smile emulator --tls --json',
    'smile emulator --fault-rate 0.1 --rate-limit-rate 0.05 --retry-after 1',
  ],
  /** Serves in the foreground: the start line on stdout (one JSON line with --json), notes on stderr; exit 0 once interrupted. */
  async run({ faultRate, dropRate, rateLimitRate, retryAfter, latencyMs, ...values }, ctx) {
    const { emulatorDocument, emulatorNotes, faultOptions, serveEmulator } = await import('../emulator/index.js');
    const faults = faultOptions({
      errorRate: faultRate,
      dropRate,
      rateLimitRate,
      retryAfterSeconds: retryAfter,
      latencyMs,
    });
    const warn = (message: string) => ctx.out.stderr(`${message}\n`);
    await serveEmulator({ ...values, faults, warn }, ctx.signal, (emulator) => {
      const started = emulatorDocument(emulator);
      // One line (filtered by --jq/--query); the key in it is the emulator's own throwaway.
      if (ctx.globals.json) ctx.out.jsonLine(started);
      else
        ctx.io.stdout.write(
          `${started.base_url}  partner_id=${started.partner_id}  api_key=${started.api_key}${started.ca_cert ? `  ca_cert=${started.ca_cert}` : ''}\n`,
        );
      ctx.out.stderr(`${emulatorNotes(emulator, faults).join('\n')}\n`);
    });
    return 0;
  },
});
