import { defineCommand } from './define.js';
import { ExitCode } from '../errors.js';

export default defineCommand({
  name: 'doctor',
  summary: 'check profile, credentials, reachability, clock skew and a signed round trip',
  examples: ['smile doctor', 'smile doctor --profile prod --json', 'smile doctor --emulator'],
  after: `
One line per check (✓ ok · ! worth fixing · ✗ blocks use · – skipped) with the fix. The clock may be off by at most 60 s
against the server's Date header. The round trip asks job_status for a job that does not exist, signed with your key.
Exit codes: 0 usable · 3 something blocks use.
`,
  async run(_values, ctx) {
    const { runDoctor, renderDoctorReport } = await import('../doctor/run.js');
    const report = await runDoctor(ctx);
    ctx.out.result(report, () => renderDoctorReport(report, (color, text) => ctx.out.paint(color, text)));
    return report.ok ? ExitCode.ok : ExitCode.auth;
  },
});
