import { arg, defineCommand, flag } from './define.js';

export default defineCommand({
  name: 'prepare',
  summary: 'write the normalised JPEG that register would send',
  args: { input: arg('<in>', 'input image'), output: arg('<out>', 'output JPEG') },
  options: { liveness: flag('--liveness', 'prepare as a liveness frame (long side ≤ 640)') },
  examples: ['smile selfie prepare IMG_0042.HEIC.jpg out.jpg --json'],
  async run({ input, output, liveness }, ctx) {
    const { runSelfiePrepare } = await import('../selfie/commands.js');
    return runSelfiePrepare(input, output, { json: ctx.globals.json, kind: liveness ? 'liveness' : 'selfie' }, ctx.io);
  },
});
