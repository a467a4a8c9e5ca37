// 1. Compile time and peak memory of `qospolicy compile` as a whole process, against two
// baselines measured in the same rounds: `node -e 0` (Node's startup) and read-baseline.js
// (Node reading the same file and splitting it into tokens).
import { dirname, join } from 'node:path';
import { policy } from './generate.js';
import { summarizeProfile } from './profile.js';
import { BIN, ROOT, log, median, must, scaled, tempDir, timed, writeTemp } from './lib.js';

export const COMPILE_SIZES = [10, 100, 1000, 10000];

export async function benchCompile({ runs }) {
  const dir = tempDir();
  const files = Object.fromEntries(COMPILE_SIZES.map((n) => [n, writeTemp(dir, `classes-${n}.pol`, policy(scaled(n)))]));
  const samples = { node: [] };
  for (const n of COMPILE_SIZES) samples[n] = { compile: [], read: [] };
  const node = process.execPath;

  // Warm the page cache and check that every policy compiles cleanly (no warnings either).
  const sizes = {};
  for (const n of COMPILE_SIZES) {
    const r = await must([node, BIN, 'check', files[n]], { env: { NO_COLOR: '1' } });
    if (r.stderr.trim() || /warning|error/.test(r.stdout)) throw new Error(`classes-${n}.pol does not check cleanly: ${r.stderr}${r.stdout}`);
    sizes[n] = Buffer.byteLength(policy(scaled(n)));
  }

  // Rounds: every round measures each baseline and each size once, so that a change in
  // the machine's load hits all of them alike.
  for (let round = 1; round <= runs; round++) {
    log(`compile: round ${round}/${runs}`);
    samples.node.push(await timed([node, '-e', '0']));
    for (const n of COMPILE_SIZES) {
      samples[n].read.push(await timed([node, join(ROOT, 'bench', 'read-baseline.js'), files[n]]));
      const out = join(dir, `classes-${n}.sh`);
      const r = await timed([node, BIN, 'compile', files[n], '-o', out], { env: { NO_COLOR: '1' } });
      if (r.code !== 0) throw new Error(`qospolicy compile classes-${n}.pol exited ${r.code}: ${r.stderr}`);
      samples[n].compile.push(r);
    }
  }

  const stat = (xs) => ({ wall: median(xs.map((x) => x.seconds)), cpu: median(xs.map((x) => x.cpu)), rssKB: median(xs.map((x) => x.rssKB)), walls: xs.map((x) => x.seconds) });
  const result = { runs, node: stat(samples.node), sizes: {} };
  for (const n of COMPILE_SIZES) {
    result.sizes[n] = { bytes: sizes[n], compile: stat(samples[n].compile), read: stat(samples[n].read) };
  }

  // Where the time goes at 10 000 classes: one run under the V8 profiler.
  log('compile: profiling 10 000 classes (node --cpu-prof)');
  const profDir = tempDir('qpbench-prof-');
  const entry = join(ROOT, 'bench', 'profile-entry.js');
  const main = join(dirname(BIN), '..', 'dist', 'cli', 'main.js');
  await must([node, '--cpu-prof', `--cpu-prof-dir=${profDir}`, entry, main, 'compile', files[10000], '-o', join(dir, 'prof.sh')], { env: { NO_COLOR: '1' } });
  result.profile = summarizeProfile(profDir);
  return result;
}
