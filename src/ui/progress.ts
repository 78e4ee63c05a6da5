import type { RunContext } from '../context.js';

/** Progress lines of one registration: a spinner on a terminal, plain lines elsewhere. */
export interface Progress {
  text(line: string): void;
  warn(line: string): void;
  stop(): void;
}

/** An ora spinner on stderr when animating; plain lines otherwise (never both ink and ora). */
export async function startProgress(ctx: RunContext): Promise<Progress> {
  if (!ctx.animate) {
    return {
      text: (line) => ctx.out.info(line),
      warn: (line) => ctx.out.warn(line),
      stop: () => undefined,
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: ctx.io.stderr, discardStdin: false }).start('Checking the selfie…');
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
