// `npm run fuzz [FILE…]`: the property tests (those that use test/support/fuzz.ts) with a
// random seed and many runs. The seed is printed first and last: a failure is replayed with
// `FUZZ_SEED=… FUZZ_RUNS=… npx vitest run FILE`, then kept as a fixed regression case.
//   FUZZ_SEED  a seed to replay instead of a random one
//   FUZZ_RUNS  runs per property: N, or Nx times each property's own count (default 50x)
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return p.endsWith('.test.ts') && /from '(\.\.\/)+support\/fuzz\.js'/.test(readFileSync(p, 'utf8')) ? [p] : [];
  });
}

const seed = process.env.FUZZ_SEED || String(randomInt(2 ** 31));
const runs = process.env.FUZZ_RUNS || '50x';
const files = process.argv.length > 2 ? process.argv.slice(2) : testFiles('test');
console.log(`fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} over ${files.join(' ')}`);
const r = spawnSync('npx', ['vitest', 'run', '--testTimeout=86400000', ...files], { stdio: 'inherit', env: { ...process.env, FUZZ_SEED: seed, FUZZ_RUNS: runs } });
console.log(`fuzz: ${r.status === 0 ? 'no counterexample' : 'FAILED'} with FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
process.exitCode = r.status ?? 1;
