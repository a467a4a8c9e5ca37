#!/usr/bin/env node
// The only place that sets the exit status: the CLI returns a code.
import { BUNDLE, loadCli } from './load.js';

// `qospolicy compile … | head`: a closed pipe ends the output quietly, not with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

let cli;
try {
  ({ cli } = loadCli());
} catch (e) {
  if (e.code !== 'ENOENT' || e.path !== BUNDLE) throw e;
  // A clone where `npm install` did not build, or a package packed without its bundle.
  process.stderr.write(`qospolicy: ${BUNDLE} is missing: run \`npm run build\` in the package's directory\n`);
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
