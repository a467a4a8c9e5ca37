#!/usr/bin/env node
// The only place that sets the exit status: the CLI returns a code.
import { loadCli } from './load.js';

// `qospolicy compile … | head`: a closed pipe ends the output quietly, not with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await loadCli().cli.main(process.argv.slice(2));
