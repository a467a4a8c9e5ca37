// Bundles the CLI into one CommonJS file (dist/bundle/qospolicy.cjs), which bin/load.js
// compiles with a V8 code cache: resolving and compiling ~150 separate modules (ours,
// execa's, commander's) took ~150 ms of every command, one file ~35 ms; the code cache
// made here (sample commands run once at build time) also spares V8 compiling the
// functions those commands use.
import { build } from 'esbuild';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_CACHE, loadCli } from '../bin/load.js';

await build({
  entryPoints: ['dist/cli/main.js'],
  // Two levels below the package root, like dist/apply/confirm.js: its path to
  // bin/qospolicy.js (for the confirm watcher) is the same in both.
  outfile: 'dist/bundle/qospolicy.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // confirm.ts finds bin/ from its own URL; CommonJS has no import.meta.
  define: { 'import.meta.url': 'bundleUrl' },
  banner: { js: "const bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// The code cache holds the functions V8 compiled while running: run commands that need no
// kernel over the shipped policies (compile in every format, check, diff), then save it.
rmSync(CODE_CACHE, { force: true });
const { cli, script } = loadCli({ cache: false });
const quiet = { out() {}, err() {}, color: false };
const out = mkdtempSync(join(tmpdir(), 'qospolicy-bundle-'));
try {
  const policies = readdirSync('policies').filter((f) => f.endsWith('.pol')).map((f) => join('policies', f));
  for (const file of policies) {
    for (const format of ['sh', 'batch', 'json']) await cli.main(['compile', file, '--format', format, '-o', join(out, 'p')], quiet);
    await cli.main(['check', file], quiet);
  }
  for (let i = 1; i < policies.length; i++) await cli.main(['diff', policies[i - 1], policies[i]], quiet);
} finally {
  rmSync(out, { recursive: true, force: true });
}
writeFileSync(CODE_CACHE, script.createCachedData());
