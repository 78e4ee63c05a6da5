import { ExitCode, UsageError, printable } from '../errors.js';
import { arg, defineCommand, flag } from './define.js';
import { SKIP_FACE_CHECK_HELP } from './help-topics.js';

export default defineCommand({
  name: 'prepare',
  summary: 'write the normalised JPEG that register would send',
  args: { input: arg('<in>', 'input image'), output: arg('<out>', 'output JPEG') },
  options: {
    liveness: flag('--liveness', 'prepare as a liveness frame (long side ≤ 320, as the mobile SDKs send)'),
    skipFaceCheck: flag('--skip-face-check', SKIP_FACE_CHECK_HELP),
  },
  examples: ['smile selfie prepare IMG_0042.HEIC.jpg out.jpg --json'],
  /**
   * Writes the JPEG that register would send (OUT `-`: stdout); with --json the document goes to
   * stdout, otherwise what was done goes to stderr. When IN has errors nothing is written: exit 4.
   */
  async run({ input, output, liveness, skipFaceCheck }, ctx) {
    const toStdout = output === '-';
    if (toStdout && ctx.globals.json)
      throw new UsageError('--json and OUT "-" both need stdout.', {
        hint: 'Write the JPEG to a file, or leave out --json.',
      });
    const [{ loadSelfieForUpload }, { writePreparedSelfie }, { preparedSelfieDocument, renderSelfieReports }] =
      await Promise.all([import('../selfie/check.js'), import('../selfie/prepare.js'), import('../selfie/report.js')]);
    const loaded = await loadSelfieForUpload(input, { kind: liveness ? 'liveness' : 'selfie', skipFaceCheck });
    const { report, jpeg, prepared } = loaded;
    if (jpeg === undefined || prepared === undefined) {
      if (ctx.globals.json) ctx.out.writeJson(preparedSelfieDocument(input, output, loaded));
      else
        ctx.out.stderr(`${renderSelfieReports([report], { color: false })}Nothing written to ${printable(output)}.\n`);
      return ExitCode.input;
    }
    if (toStdout) ctx.io.stdout.write(jpeg);
    else await writePreparedSelfie(output, jpeg);
    if (ctx.globals.json) {
      ctx.out.writeJson(preparedSelfieDocument(input, output, loaded));
    } else {
      const what = `JPEG ${prepared.width}×${prepared.height}, ${prepared.bytes} bytes`;
      const how = prepared.changed ? `: ${prepared.changes.join('; ')}` : ' (the input, byte for byte)';
      const findings = report.findings
        .map((finding) => `  ${finding.severity} ${finding.code}: ${finding.message}\n`)
        .join('');
      ctx.out.stderr(`Wrote ${toStdout ? 'stdout' : printable(output)}: ${what}${how}.\n${findings}`);
    }
    return ExitCode.ok;
  },
});
