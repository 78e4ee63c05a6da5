import { defineCommand } from './define.js';

/** `smile version` (and `smile -v`, `smile --version`: answered in cli.ts before anything loads). */
export default defineCommand({
  name: 'version',
  summary: 'print the version (like --version; with --json, a document)',
  examples: ['smile version', 'smile -v', 'smile version --json'],
  async run(_values, ctx, { program }) {
    const version = program.version() ?? 'unknown';
    ctx.out.result({ ok: true, version }, () => version);
    return 0;
  },
});
