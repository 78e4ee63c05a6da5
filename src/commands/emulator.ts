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
    stateFile: text('--state-file <path>', 'keep users and jobs in this append-only log (compacted as it grows; selfies in PATH.selfies/), saved before each answer'),
    faultRate: decimal('--fault-rate <rate>', 'share of requests answered 500 (0..1)'),
    dropRate: decimal('--drop-rate <rate>', 'share of connections dropped (0..1)'),
    rateLimitRate: decimal('--rate-limit-rate <rate>', 'share of requests answered 429 (0..1)'),
    retryAfter: wholeNumber('--retry-after <seconds>', 'Retry-After of those 429s'),
    latencyMs: wholeNumber('--latency <ms>', 'added latency per request'),
    clockSkewMs: decimal('--clock-skew-ms <ms>', 'skew the Date header and timestamps (doctor tests)'),
  },
  examples: ['smile emulator --port 8080', 'smile emulator --tls --json', 'smile emulator --fault-rate 0.1 --rate-limit-rate 0.05 --retry-after 1'],
  async run(values, ctx) {
    const { runEmulatorCommand } = await import('../emulator/cli.js');
    return runEmulatorCommand({ ...values, json: ctx.globals.json }, { stdout: ctx.io.stdout, stderr: ctx.io.stderr, signal: ctx.signal });
  },
});
