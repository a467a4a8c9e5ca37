// The CLI unbundled, for `node --cpu-prof`: in the bundle every function sits in one file
// under a name esbuild may change, so the profile could not tell the phases apart.
// Usage: node bench/profile-entry.js DIST/cli/main.js ARGS…
import { pathToFileURL } from 'node:url';

const { main } = await import(pathToFileURL(process.argv[2]).href);
process.exitCode = await main(process.argv.slice(3));
