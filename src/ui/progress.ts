import type { RunContext } from '../context.js';

/** Progress lines of one registration: a spinner on a terminal, plain lines elsewhere. */
export interface Progress {
  text(line: string): void;
  warn(line: string): void;
  stop(): void;
}

/**
 * An ora spinner on stderr when animating; plain lines otherwise (never both ink and ora). `first`:
 * the first line (shown as a plain line too); without it the spinner starts on the selfie check.
 */
export async function startProgress(ctx: RunContext, first?: string): Promise<Progress> {
  // A terminal that reports 0 columns (a pty nobody sized: `script` on a pipe, some `docker run -t`)
  // would make ora count infinitely many lines to clear: plain lines there.
  const animate = ctx.animate && ctx.io.stderr.columns !== 0;
  if (first !== undefined && !animate) ctx.out.info(first);
  if (!animate) {
    return {
      text: (line) => ctx.out.info(line),
      warn: (line) => ctx.out.warn(line),
      stop: () => undefined,
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: ctx.io.stderr, discardStdin: false }).start(first ?? 'Checking the selfie…');
  return {
    text: (line) => {
      spinner.text = line;
    },
    warn: (line) => {
      spinner.stopAndPersist({ symbol: ctx.out.paint('yellow', '!'), text: line });
      spinner.start();
    },
    stop: () => spinner.stop(),
  };
}
