import type { RunContext } from './context.js';
import { CancelledError, ExitCode, isSmileCliError } from './errors.js';

/**
 * The one error boundary: typed errors print their message and hint and give their exit code;
 * anything else is a bug (exit 1, stack only with --debug). Cleanups always run.
 */
export async function runWithErrorBoundary(context: RunContext, run: () => Promise<number>): Promise<number> {
  let code: number;
  try {
    code = await run();
  } catch (error) {
    const shown = context.signal.aborted && !isSmileCliError(error) ? new CancelledError('Interrupted.') : error;
    context.out.error(shown, { debug: context.globals.debug });
    code = isSmileCliError(shown) ? shown.exitCode : ExitCode.bug;
  }
  try {
    await context.runCleanups();
  } catch (error) {
    context.trace(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return code;
}
