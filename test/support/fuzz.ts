// Every fast-check property runs through `fuzz`: with a fixed seed by default, so a test run
// (CI's too) is the same run every time, and a failure names the seed, fast-check's replay
// path and the shrunk counterexample. `npm run fuzz` (scripts/fuzz.js) sets a random seed
// and many more runs.
//
//   FUZZ_SEED  an integer: the seed of every property (default DEFAULT_SEED; see fuzz for
//              long runs)
//   FUZZ_RUNS  `N` runs per property, or `Nx` for N times each property's own count
//              (default: the property's own count)
//
// A counterexample found this way becomes a fixed regression case beside its property.
import fc from 'fast-check';

export const DEFAULT_SEED = 20261207;
/** The most runs a property gets when FUZZ_RUNS is unset: a test run stays quick. */
const MAX_DEFAULT_RUNS = 3000;

type Env = Record<string, string | undefined>;

export function fuzzSeed(env: Env = process.env): number {
  const v = env.FUZZ_SEED;
  if (v === undefined || v === '') return DEFAULT_SEED;
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v))) throw new Error(`FUZZ_SEED must be an integer, not '${v}'`);
  return Number(v) | 0; // fast-check seeds are 32-bit
}

/** Runs for a property whose own count is `own`. */
export function fuzzRuns(own: number, env: Env = process.env): number {
  const v = (env.FUZZ_RUNS ?? '').trim();
  if (v === '') return Math.min(own, MAX_DEFAULT_RUNS);
  const m = /^(\d+)(x?)$/.exec(v);
  if (!m || Number(m[1]) < 1) throw new Error(`FUZZ_RUNS must be a count (5000) or a multiplier (20x), not '${v}'`);
  return m[2] ? own * Number(m[1]) : Number(m[1]);
}

/**
 * fc.assert with the seed and runs of this environment; await it. Long runs go in chunks of
 * the property's own count, chunk k with seed FUZZ_SEED + k, yielding between chunks: vitest
 * fails a worker whose event loop is blocked for a minute. A failure's message starts with
 * the command that replays its chunk.
 */
export async function fuzz<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, { runs = 100 }: { runs?: number } = {}): Promise<void> {
  const seed = fuzzSeed();
  let left = fuzzRuns(runs);
  const chunk = Math.min(runs, MAX_DEFAULT_RUNS);
  for (let k = 0; left > 0; k++) {
    const numRuns = Math.min(chunk, left);
    const chunkSeed = (seed + k) | 0;
    try {
      fc.assert(property, { seed: chunkSeed, numRuns });
    } catch (e) {
      if (e instanceof Error) e.message = `replay: FUZZ_SEED=${chunkSeed} FUZZ_RUNS=${numRuns} npx vitest run <this file>\n${e.message}`;
      throw e;
    }
    left -= numRuns;
    if (left > 0) await new Promise((r) => setImmediate(r));
  }
}

/** A property test's timeout: `ms` in a test run, unbounded when FUZZ_RUNS asks for a long one. */
export const fuzzTimeout = (ms: number, env: Env = process.env): number => ((env.FUZZ_RUNS ?? '').trim() === '' ? ms : 24 * 3600_000);
