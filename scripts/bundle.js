// Bundles the CLI into one file (dist/bundle/qospolicy.js), which bin/qospolicy.js loads:
// resolving and compiling ~150 separate modules (ours, execa's, commander's) took
// ~150 ms of every command; one file takes ~35 ms.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  // Two levels below the package root, like dist/apply/confirm.js: its path to
  // bin/qospolicy.js (for the confirm watcher) is the same in both.
  outfile: 'dist/bundle/qospolicy.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Bundled CommonJS dependencies (nearley, moo, cross-spawn) call require() for Node's
  // built-ins, which an ES module lacks.
  banner: { js: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);" },
});
