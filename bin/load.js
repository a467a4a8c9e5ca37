// Loads the bundled CLI (dist/bundle/qospolicy.cjs, built by scripts/bundle.js) with the V8
// code cache made when it was built: Node then neither parses the ~700 KB bundle nor
// compiles the functions that the build's sample commands ran, which every command would
// otherwise pay again. A cache that does not fit this Node (or a missing one) is ignored
// by V8: the bundle is compiled as usual.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

// A command lives for a fraction of a second, and TurboFan's background compiles of the
// functions that got warm cost more CPU than they saved: at 1 000 classes ~130 of
// `apply`'s ~350 ms, for no gain in wall time. With 8× V8's budget (132 KB) before it
// optimizes a function, only long runs (10 000 classes) still do. Still worth it once the
// hand-tuned code was made plain (issue #13): `compile` without it took 1.33× the CPU at
// 1 000 classes and 1.28× at 10 000 (interleaved A/B, medians of 7). Set before the bundle
// is compiled, by the build and by every command alike: V8 accepts a code cache only
// under the flags it was made with.
v8.setFlagsFromString('--interrupt-budget=1048576');

export const BUNDLE = fileURLToPath(new URL('../dist/bundle/qospolicy.cjs', import.meta.url));
export const CODE_CACHE = BUNDLE.replace(/\.cjs$/, '.v8cache');

/** The CLI's exports (main) and the compiled script (to make a code cache from). */
export function loadCli({ cache = true } = {}) {
  const source = readFileSync(BUNDLE, 'utf8');
  let cachedData;
  try {
    if (cache) cachedData = readFileSync(CODE_CACHE);
  } catch {
    // no cache: compile
  }
  // The wrapper Node gives every CommonJS module.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { cli: module.exports, script };
}
