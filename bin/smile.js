#!/usr/bin/env node
// Tiny on purpose: enable the compile cache, then hand over to the built CLI.
import module from 'node:module';
module.enableCompileCache?.();
// `smile … | head` closes the pipe early: stop quietly instead of dying on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
try {
  const { main } = await import('../dist/cli.js');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // main() has its own error boundary; reaching this is a bug (or a missing build).
  const key = process.env.SMILE_API_KEY;
  const text = String(error?.message ?? error);
  process.stderr.write(
    `✗ smile failed unexpectedly: ${key ? text.split(key).join('[redacted]') : text}\n  This is a bug (or dist/ is missing: run npm ci). Report it with the output of --debug.\n`,
  );
  process.exitCode = 1;
}
