import { arg, defineCommand, parsed } from './define.js';
import { parseMaxAge } from '../parse.js';

export default defineCommand({
  name: 'verify',
  summary: "verify a callback body's signature with your key and print its outcome (no network)",
  args: { file: arg('<file>', 'the JSON body Smile ID POSTed, or - for stdin') },
  options: {
    maxAge: parsed(
      '--max-age <duration>',
      'refuse a body signed longer ago than this (default 1h; a saved body checked later: e.g. 30d)',
      (value) => parseMaxAge(value, '1h'),
    ),
  },
  examples: [
    'smile callback verify body.json',
    'pbpaste | smile callback verify - --json',
    'smile callback verify saved-in-march.json --max-age 30d',
  ],
  after: `
The body is the result object plus timestamp and signature; the signature is checked with the profile's key (flag > env > profile).
The signature covers only the timestamp, so its age is checked too: signed more than --max-age ago (default 1h) or more
than 15 min in the future is refused. Durations: 500ms, 90s, 45m, 24h, 30d.
Exit codes: 0 approved · 3 bad, missing, too old or future signature (nothing shown as a result) · 4 not a JSON object · 6 rejected · 8 provisional.
`,
  async run({ file, maxAge }, ctx) {
    const [{ verifyCallbackInput, renderCallbackVerification }, { exitCodeForOutcome }] = await Promise.all([
      import('../callback/verify.js'),
      import('../smile/outcome.js'),
    ]);
    const verification = await verifyCallbackInput(
      file,
      { stdin: ctx.io.stdin, globals: ctx.globals, env: ctx.env },
      { maxAgeMs: maxAge?.ms },
    );
    for (const warning of verification.verified.warnings) ctx.out.warn(warning);
    ctx.out.result(verification.document, () => renderCallbackVerification(verification, { color: ctx.out.color }));
    return exitCodeForOutcome(verification.verified.outcome);
  },
});
