import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, UsageError, printable } from '../errors.js';
import { defineCommand, duration, negatedFlag, requiredText } from './define.js';

/** `smile capture --out DIR`: take a selfie and liveness frames in the browser and keep them (nothing is sent). */
export default defineCommand({
  name: 'capture',
  summary: "take a selfie and liveness frames in the browser with Smile ID's capture component (nothing is sent)",
  options: {
    out: requiredText('--out <dir>', 'where to save selfie.jpg and liveness-1.jpg … (created if missing)'),
    open: negatedFlag('--no-open', 'print the page address instead of opening a browser (e.g. over ssh)'),
    captureTimeout: duration('--capture-timeout <duration>', 'how long to wait for the photos', '10m'),
  },
  examples: ['smile capture --out photos/u-1042', 'smile capture --out photos/u-1042 --no-open --json'],
  after: `
The page is served on 127.0.0.1 at a random port behind a one-time address; it takes one set of photos,
then stops (also on Ctrl-C, a closed tab, or --capture-timeout). The photos are checked like any selfie.
Exit codes: 0 saved · 4 saved, but a photo failed its checks, or nothing was captured in time · 130 cancelled.`,
  async run({ out, open, captureTimeout }, ctx) {
    const [{ captureInBrowser, saveCapturedImages }, { checkSelfieFiles }, { renderSelfieReports }, { shellQuote }] =
      await Promise.all([
        import('../capture/run.js'),
        import('../selfie/check.js'),
        import('../selfie/report.js'),
        import('../output/shell.js'),
      ]);
    // Never over an earlier capture: what was taken then is kept.
    const taken = await access(join(out, 'selfie.jpg')).then(
      () => true,
      () => false,
    );
    if (taken)
      throw new UsageError(`${printable(out)} already holds a capture (selfie.jpg).`, {
        hint: 'Choose another --out directory, or move the earlier photos away first.',
      });
    const images = await captureInBrowser(ctx, { open, timeout: captureTimeout });
    // Saved first: whatever the checks say, what was captured is kept.
    const saved = await saveCapturedImages(out, images);
    const [selfie, ...frames] = await Promise.all([
      checkSelfieFiles([saved.selfie], { kind: 'selfie' }),
      ...saved.liveness.map((path) => checkSelfieFiles([path], { kind: 'liveness' })),
    ]);
    const reports = [...(selfie ?? []), ...frames.flat()];
    const ok = reports.every((report) => report.ok);
    const next = `smile register --user-id USER --selfie ${shellQuote(saved.selfie)}${saved.liveness.length > 0 ? ` --liveness ${saved.liveness.map(shellQuote).join(' ')}` : ''}`;
    ctx.out.result(
      {
        ok,
        dir: out,
        selfie: saved.selfie,
        liveness: saved.liveness,
        liveness_frames: saved.liveness.length,
        files: reports.map((report) => ({ path: report.path, ok: report.ok, findings: report.findings })),
      },
      () =>
        `${renderSelfieReports(reports, { color: ctx.out.color })}Saved the selfie and ${saved.liveness.length} liveness frames in ${out}.\n${ok ? `Register with: ${next}` : 'Some photos failed their checks: take them again.'}`,
    );
    return ok ? ExitCode.ok : ExitCode.input;
  },
});
