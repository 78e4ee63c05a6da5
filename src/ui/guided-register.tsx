import { render } from 'ink';
import type { RunContext } from '../context.js';
import { CancelledError } from '../errors.js';
import { GuidedForm } from './guided-form.js';
import type { GuidedValues, ProfileChoice, SelfieCheckView } from './guided-form.js';

/** Check a selfie for the form: findings plus a small half-block picture of it. */
export async function checkSelfieForForm(
  path: string,
  color: boolean,
  skipFaceCheck = false,
): Promise<SelfieCheckView> {
  const { checkSelfie } = await import('../selfie/check.js');
  const report = await checkSelfie(path, { kind: 'selfie', skipFaceCheck });
  let preview = '';
  if (report.format !== null && !report.findings.some((finding) => finding.severity === 'error')) {
    const { renderHalfBlockPreview } = await import('../selfie/preview.js');
    preview = await renderHalfBlockPreview(path, { width: 20, color }).catch(() => '');
  }
  return { ...report, preview };
}

async function loadProfileChoices(
  ctx: RunContext,
): Promise<{ profiles: ProfileChoice[]; current: string | undefined }> {
  if (ctx.globals.emulator) return { profiles: [], current: undefined };
  const { configDir } = await import('../config/paths.js');
  const { listProfiles, currentProfileName } = await import('../config/profiles.js');
  const { defaultBaseUrl } = await import('../config/validate.js');
  const dir = configDir(ctx.env);
  const listed = await listProfiles(dir).catch(() => []);
  const current =
    ctx.globals.profile ?? ctx.env['SMILE_PROFILE'] ?? (await currentProfileName(dir).catch(() => undefined));
  return {
    profiles: listed.map((profile) => ({
      name: profile.name,
      environment: profile.environment,
      partnerId: profile.partnerId,
      host: hostOf(profile.baseUrl ?? defaultBaseUrl(profile.environment)),
    })),
    current,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What the form starts from (the flags given) and what it gives back. */
export interface GuidedInitial {
  userId?: string | undefined;
  selfie?: string | undefined;
  allowReEnroll?: boolean | undefined;
  skipFaceCheck?: boolean | undefined;
}
export interface GuidedChoice {
  userId: string;
  selfie: string | undefined;
  /** No file was given: take the selfie with the camera (`--capture`). */
  capture: boolean;
  allowReEnroll: boolean;
  /** A profile picked in the form instead of the one the flags name; undefined when unchanged. */
  profile: string | undefined;
}

/** The ink form for missing register values on a TTY; undefined when the operator declines (Esc, "n"). */
export async function runGuidedRegister(opts: GuidedInitial, ctx: RunContext): Promise<GuidedChoice | undefined> {
  const { profiles, current } = await loadProfileChoices(ctx);
  let values: GuidedValues | undefined;
  let interrupted = false;
  const explicitProfile = ctx.globals.profile ?? ctx.env['SMILE_PROFILE'];
  const instance = render(
    <GuidedForm
      profiles={profiles}
      fixedProfile={explicitProfile}
      preselect={current}
      fallbackEnvironment={ctx.globals.emulator ? 'emulator' : (ctx.globals.env ?? ctx.env['SMILE_ENV'] ?? 'sandbox')}
      initial={{ userId: opts.userId, selfie: opts.selfie, allowReEnroll: opts.allowReEnroll }}
      checkSelfie={(path) => checkSelfieForForm(path, ctx.out.colors.stderr, opts.skipFaceCheck ?? false)}
      onDone={(done) => (values = done)}
      onInterrupt={() => (interrupted = true)}
    />,
    {
      stdin: ctx.io.stdin as NodeJS.ReadStream,
      stdout: ctx.io.stderr as NodeJS.WriteStream,
      exitOnCtrlC: false,
      patchConsole: false,
    },
  );
  // A SIGINT (Ctrl-C before ink takes the terminal raw, or a kill) ends the form as Ctrl-C does.
  const onAbort = () => {
    interrupted = true;
    instance.unmount();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  await instance.waitUntilExit().finally(() => ctx.signal.removeEventListener('abort', onAbort));
  instance.cleanup();
  // Ctrl-C is an interruption (exit 130); Esc or "n" an answer (undefined: the caller's exit 9).
  if (interrupted) throw new CancelledError('Interrupted: nothing was sent.');
  if (!values) return undefined;
  return {
    userId: values.userId,
    selfie: values.capture ? undefined : values.selfie,
    capture: values.capture,
    allowReEnroll: values.allowReEnroll,
    profile: values.profile && values.profile !== explicitProfile ? values.profile : undefined,
  };
}
