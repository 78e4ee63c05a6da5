#!/usr/bin/env node
// Tiny on purpose: enable the compile cache, then hand over to the built CLI.
import module from 'node:module';
module.enableCompileCache?.();
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
