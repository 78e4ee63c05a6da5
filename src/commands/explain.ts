import { UsageError } from '../errors.js';
import { arg, defineCommand } from './define.js';

/** `smile explain CODE`: meaning, whether final, what to do. Unknown codes say so (exit 2). */
export default defineCommand({
  name: 'explain',
  summary: 'what a Smile ID result or error code means and what to do',
  args: { code: arg('<code>', 'e.g. 2209, 0810, 429, or a selfie check code (no_face)') },
  examples: ['smile explain 2205', 'smile explain 0814 --json', 'smile explain no_face'],
  async run({ code }, ctx) {
    const [{ findCode }, { findFinding }] = await Promise.all([
      import('../smile/codes.js'),
      import('../selfie/finding-info.js'),
    ]);
    const info = findCode(code);
    const finding = info ? undefined : findFinding(code);
    if (finding) {
      const effect =
        finding.severity === 'error'
          ? 'Error: the photo is not sent (exit 4).'
          : 'Warning: the photo is still sent; the warning is shown and recorded.';
      ctx.out.result({ ok: true, ...finding, family: 'selfie' }, () =>
        [
          `${finding.code} · ${finding.title} (selfie check)`,
          `  ${finding.meaning}`,
          `  ${effect}`,
          `  Next: ${finding.hint}`,
        ].join('\n'),
      );
      return 0;
    }
    if (!info) {
      throw new UsageError(`${code} is not a code smile knows.`, {
        code: 'unknown_code',
        hint: 'Codes come from Smile ID result codes (e.g. 0810), error codes (22xx), HTTP statuses, S3 upload errors and the selfie checks (e.g. no_face: see smile selfie check --help); check docs.usesmileid.com or Smile ID support.',
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
