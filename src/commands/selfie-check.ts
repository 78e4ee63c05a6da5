import { ExitCode, UsageError } from '../errors.js';
import { SELFIE_THRESHOLDS_HELP } from '../selfie/limits.js';
import { defineCommand, flag, variadicArg } from './define.js';
import { SKIP_FACE_CHECK_HELP } from './help-topics.js';

export default defineCommand({
  name: 'check',
  summary: 'check selfie files with sharp; exit 4 if any has an error',
  args: { files: variadicArg('<files...>', 'image files') },
  options: {
    liveness: flag('--liveness', 'check as liveness frames (smaller size limits)'),
    skipFaceCheck: flag('--skip-face-check', SKIP_FACE_CHECK_HELP),
  },
  examples: ['smile selfie check face.jpg', 'smile selfie check photos/*.jpg --json'],
  after: `\n${SELFIE_THRESHOLDS_HELP}`,
  /** The report (human, or one JSON document) on stdout; exit 0, or 4 when any file has an error. */
  async run({ files, liveness, skipFaceCheck }, ctx) {
    if (files.length === 0)
      throw new UsageError('No files to check.', {
        hint: 'Pass one or more image files: smile selfie check selfie.jpg',
      });
    const [{ checkSelfieFiles }, { renderSelfieReports, selfieReportsJson }] = await Promise.all([
      import('../selfie/check.js'),
      import('../selfie/report.js'),
    ]);
    const reports = await checkSelfieFiles(files, { kind: liveness ? 'liveness' : 'selfie', skipFaceCheck });
    ctx.out.result(selfieReportsJson(reports), () => renderSelfieReports(reports, { color: ctx.out.color }));
    return reports.every((report) => report.ok) ? ExitCode.ok : ExitCode.input;
  },
});
