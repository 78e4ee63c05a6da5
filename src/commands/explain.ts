import { UsageError } from '../errors.js';
import { arg, defineCommand } from './define.js';
import type { SmileCodeInfo } from './error-codes.js';

/** What a smile code does to the run: its exit codes, in words. */
function smileCodeEffect(entry: SmileCodeInfo, exitName: (exit: number) => string): string {
  if (entry.kind === 'warning')
    return "Warning: the command goes on; the warning is shown (bulk: in the row's warnings) and the exit code does not change.";
  if (entry.kind === 'row')
    return 'Bulk row: exit 4 when every row is invalid, else 6 (5 wins when other rows need a re-run).';
  return `Exit ${entry.exit.map(exitName).join(' or ')}.`;
}

/**
 * Which exit code `code` names: `exit-4` always; a bare number of 1 or 2 digits, or 130. Smile ID's
 * own codes have 4 digits (0810, 2205; `0001` stays reachable as typed), HTTP statuses 3.
 */
function exitCodeNamed(code: string): number | undefined {
  const match = /^(?:exit[-_: ]?)?(\d{1,3})$/i.exec(code.trim());
  if (!match) return undefined;
  const explicit = /^exit/i.test(code.trim());
  const digits = match[1]!;
  if (!explicit && digits.length === 3 && digits !== '130') return undefined;
  return Number(digits);
}

/** `smile explain CODE`: meaning, whether final, what to do. Unknown codes say so (exit 2). */
export default defineCommand({
  name: 'explain',
  summary:
    "what a Smile ID result or error code, smile's own error code, a selfie check or an exit code means and what to do",
  args: {
    code: arg(
      '<code>',
      'e.g. 2209, 0810, 429, an error code of smile (journal_locked, http_404), a selfie check code (no_face) or an exit code (4)',
    ),
  },
  examples: [
    'smile explain 2205',
    'smile explain 0814 --json',
    'smile explain journal_locked',
    'smile explain no_face',
    'smile explain 4',
  ],
  after:
    '\nA number of 1 or 2 digits (or 130) is an exit code of smile: Smile ID result and error codes have 4 digits (0810, 2205), HTTP statuses 3. `exit-N` always means exit code N.\n',
  async run({ code }, ctx) {
    const [{ findCode, allCodes }, { findFinding, findingCodes }, { EXIT_CODES }, { didYouMean }, smileCodes] =
      await Promise.all([
        import('../smile/codes.js'),
        import('../selfie/finding-info.js'),
        import('./help-topics.js'),
        import('./suggest.js'),
        import('./error-codes.js'),
      ]);
    const exitNumber = exitCodeNamed(code);
    if (exitNumber !== undefined) {
      const exit = EXIT_CODES.find((entry) => entry.exit === exitNumber);
      if (!exit)
        throw new UsageError(`${exitNumber} is not an exit code of smile.`, {
          code: 'unknown_code',
          hint: `Exit codes: ${EXIT_CODES.map((entry) => entry.exit).join(', ')} (smile help exit-codes). Smile ID's own codes have 4 digits, e.g. 0810.`,
        });
      ctx.out.result({ ok: true, code: String(exit.exit), family: 'exit', ...exit }, () =>
        [`exit ${exit.exit} · ${exit.name}`, `  ${exit.meaning}`, '  All exit codes: smile help exit-codes'].join('\n'),
      );
      return 0;
    }
    const info = findCode(code);
    const finding = info ? undefined : findFinding(code);
    // smile's own error and warning codes (journal_locked, http_404 …); `unreadable` is a selfie check too.
    const own = info ? undefined : smileCodes.findSmileCode(code);
    const exitName = (exit: number) => `${exit} (${EXIT_CODES.find((entry) => entry.exit === exit)?.name ?? '?'})`;
    const ownLines = (entry: SmileCodeInfo) => [
      `${entry.code} · ${entry.title} (smile ${entry.kind === 'row' ? 'bulk row reason' : entry.kind})`,
      `  ${entry.meaning}`,
      `  ${smileCodeEffect(entry, exitName)}`,
      `  Next: ${entry.hint}`,
    ];
    const ownDocument = (entry: SmileCodeInfo) => ({
      code: entry.code,
      family: 'smile' as const,
      kind: entry.kind,
      title: entry.title,
      meaning: entry.meaning,
      hint: entry.hint,
      exit_codes: [...entry.exit],
    });
    if (finding) {
      const effect =
        finding.severity === 'error'
          ? 'Error: the photo is not sent (exit 4).'
          : 'Warning: the photo is still sent; the warning is shown and recorded.';
      ctx.out.result({ ok: true, ...finding, family: 'selfie', ...(own ? { also: ownDocument(own) } : {}) }, () =>
        [
          `${finding.code} · ${finding.title} (selfie check)`,
          `  ${finding.meaning}`,
          `  ${effect}`,
          `  Next: ${finding.hint}`,
          ...(own ? ['', 'Also:', ...ownLines(own)] : []),
        ].join('\n'),
      );
      return 0;
    }
    if (own) {
      ctx.out.result({ ok: true, ...ownDocument(own) }, () => ownLines(own).join('\n'));
      return 0;
    }
    if (!info) {
      const known = [
        ...allCodes().map((entry) => entry.code),
        ...findingCodes(),
        ...smileCodes.smileCodes().map((entry) => entry.code),
      ];
      throw new UsageError(`${code} is not a code smile knows.${didYouMean(code, known)}`, {
        code: 'unknown_code',
        hint: "Codes come from Smile ID result codes (e.g. 0810), error codes (22xx), HTTP statuses, S3 upload errors, smile's own error codes (the error.code of --json, e.g. journal_locked), the selfie checks (e.g. no_face: see smile selfie check --help) and smile exit codes (e.g. 4); check docs.usesmileid.com or Smile ID support.",
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
