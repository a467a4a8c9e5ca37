// The two knobs of every property test (and of other fuzz targets): FUZZ_SEED and FUZZ_RUNS.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_SEED, fuzz, fuzzRuns, fuzzSeed } from './fuzz.js';

describe('fuzz settings', () => {
  it('FUZZ_SEED: an integer, a fixed default when unset', () => {
    expect(fuzzSeed({})).toBe(DEFAULT_SEED);
    expect(fuzzSeed({ FUZZ_SEED: '42' })).toBe(42);
    expect(fuzzSeed({ FUZZ_SEED: '-7' })).toBe(-7);
    expect(() => fuzzSeed({ FUZZ_SEED: 'abc' })).toThrow(/FUZZ_SEED must be an integer/);
  });

  it("FUZZ_RUNS: a count, or a multiple of the property's own count; unset, the own count (bounded)", () => {
    expect(fuzzRuns(1500, {})).toBe(1500);
    expect(fuzzRuns(50_000, {})).toBe(3000);
    expect(fuzzRuns(1500, { FUZZ_RUNS: '200' })).toBe(200);
    expect(fuzzRuns(1500, { FUZZ_RUNS: '20x' })).toBe(30_000);
    expect(() => fuzzRuns(10, { FUZZ_RUNS: '0' })).toThrow(/FUZZ_RUNS must be/);
  });

  it('a failure names the replay command, the seed and the shrunk counterexample', async () => {
    const failing = fuzz(fc.property(fc.nat(), (n) => n < 1000), { runs: 200 });
    await expect(failing).rejects.toThrow(new RegExp(`^replay: FUZZ_SEED=${fuzzSeed()} FUZZ_RUNS=\\d+[\\s\\S]*seed: ${fuzzSeed()}[\\s\\S]*Counterexample: \\[1000\\]`));
  });
});
