import { SELFIE_THRESHOLDS_HELP } from '../selfie/rules.js';
import { defineCommand, flag, variadicArg } from './define.js';

export default defineCommand({
  name: 'check',
  summary: 'check selfie files with sharp; exit 4 if any has an error',
  args: { files: variadicArg('<files...>', 'image files') },
  options: { liveness: flag('--liveness', 'check as liveness frames (smaller size limits)') },
  examples: ['smile selfie check face.jpg', 'smile selfie check photos/*.jpg --json'],
  after: `\n${SELFIE_THRESHOLDS_HELP}`,
  async run({ files, liveness }, ctx) {
    const { runSelfieCheck } = await import('../selfie/commands.js');
    return runSelfieCheck(files, { json: ctx.globals.json, color: ctx.out.color, kind: liveness ? 'liveness' : 'selfie' }, ctx.io);
  },
});
