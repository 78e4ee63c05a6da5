import { defineCommand, parsed, requiredParsed, text } from './define.js';
import { parseMaxAge, parseWholeNumber } from '../parse.js';

export default defineCommand({
  name: 'listen',
  summary: 'a ready callback endpoint: verify each POST, append results to JSONL, print, forward',
  options: {
    port: requiredParsed('--port <n>', 'port to listen on (0 = any free port, printed)', (value) =>
      parseWholeNumber(value, '--port'),
    ),
    host: text('--host <host>', 'address to listen on', '127.0.0.1'),
    out: text('--out <path>', 'append verified results here, one JSON line each (flushed before answering)'),
    forward: text('--forward <url>', 'POST each verified body on to this URL (best effort, retried)'),
    maxAge: parsed('--max-age <duration>', 'refuse callbacks signed longer ago than this (default 1h)', (value) =>
      parseMaxAge(value, '1h'),
    ),
  },
  examples: [
    'smile callback listen --port 8080 --out results.jsonl',
    'smile callback listen --port 8080 --host 0.0.0.0 --forward http://app.internal/smile --json',
  ],
  after: `
Run it behind your HTTPS ingress or tunnel: Smile ID needs an https URL in production. Answers 200 once a verified
result is whole on disk (flushed), 401 for a bad signature or one signed more than --max-age ago (default 1h) or more
than 15 min in the future, 400 for a body that is not JSON, 413 over 2 MB, 503 (Retry-After) when the result cannot
be written. The machine result and a later human-review result of the same job are both kept; a repeated delivery of
the same signed body is answered 200 and stored once. A full disk is waited out (503 until there is room); a file
that cannot be written any more stops the listener. Stop with Ctrl-C.
Exit codes: 0 stopped · 2 port in use · 3 no key · 4 --out cannot be opened · 5 --out cannot be written any more.
`,
  async run({ port, host, out, forward, maxAge }, ctx) {
    const { listenForCallbacks, describeListenSummary } = await import('../callback/listen.js');
    const summary = await listenForCallbacks({ port, host, out, forward, maxAgeMs: maxAge?.ms }, ctx);
    ctx.out.info(describeListenSummary(summary));
    return 0;
  },
});
