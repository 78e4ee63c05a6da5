import { UsageError } from '../errors.js';
import { arg, defineCommand } from './define.js';

/** `smile explain CODE`: meaning, whether final, what to do. Unknown codes say so (exit 2). */
export default defineCommand({
  name: 'explain',
  summary: 'what a Smile ID result or error code means and what to do',
  args: { code: arg('<code>', 'e.g. 2209, 0810, 429') },
  examples: ['smile explain 2205', 'smile explain 0814 --json'],
  async run({ code }, ctx) {
    const { findCode } = await import('../smile/codes.js');
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
  },
});
