import type { RunContext } from '../context.js';
import { UsageError } from '../errors.js';
import { lookupCode } from '../smile/codes.js';
import type { CodeInfo } from '../smile/codes.js';

/**
 * A code as typed: result codes keep their leading zero ("0810"), but shells and spreadsheets drop
 * it ("810"); a 1–3 digit number that is not a known HTTP status is tried zero-padded.
 */
function findCode(code: string): CodeInfo | undefined {
  const trimmed = code.trim();
  return lookupCode(trimmed) ?? (/^\d{1,3}$/.test(trimmed) ? lookupCode(trimmed.padStart(4, '0')) : undefined);
}

/** `smile explain CODE`: meaning, whether final, what to do. Unknown codes say so (exit 2). */
export async function runExplain(code: string, ctx: RunContext): Promise<number> {
  const info = findCode(code);
  if (!info) {
    throw new UsageError(`${code} is not a code smile knows.`, {
      code: 'unknown_code',
      hint: 'Codes come from Smile ID result codes (e.g. 0810), error codes (22xx), HTTP statuses and S3 upload errors; check docs.usesmileid.com or Smile ID support.',
    });
  }
  ctx.out.result({ ok: true, ...info, unverified: info.unverified === true }, () =>
    [
      `${info.code} · ${info.title}${info.unverified ? ' (not confirmed by Smile ID docs)' : ''}`,
      `  ${info.meaning}`,
      `  ${info.final ? 'Final: retrying the same request will not change it.' : 'Not final: retrying or waiting can help.'}`,
      `  Next: ${info.hint}`,
    ].join('\n'),
  );
  return 0;
}
