#!/usr/bin/env node
// Tiny on purpose: enable the compile cache, then hand over to the built CLI.
import module from 'node:module';
import { setFlagsFromString } from 'node:v8';
module.enableCompileCache?.();
// WebAssembly (undici's HTTP parser, the CommonJS import lexer) stays on V8's baseline compiler: the
// optimising tier-up is compiled in the background, and Node waits for it before exiting, which
// cost a one-shot `smile register` 0.12–0.4 s after its work was done (issue 14).
setFlagsFromString('--liftoff-only');
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
