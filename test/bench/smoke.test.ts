// `npm run bench` at a few classes (QP_BENCH_SMOKE=1, bench/lib.js): every benchmark and the
// report run end to end against the kernel, so the bench code cannot rot between real runs.
// No figure is asserted: timing targets live in the bench itself, as ratios.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { requireKernelTools } from '../support/netns.js';

describe.skipIf(!requireKernelTools())('bench smoke run', () => {
  it('compile, apply against FireQOS, incremental and data plane, then the report', async () => {
    const r = await execa(process.execPath, ['bench/run.js'], { env: { QP_BENCH_SMOKE: '1' }, reject: false, timeout: 170_000 });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).not.toMatch(/FAILED/);
    for (const heading of ['# Benchmarks', '## 1. Compile time', 'FireQOS']) expect(r.stdout).toContain(heading);
    // Correctness the bench checks as it goes (not its figures): the incremental change was
    // one in-place update, took effect, and kept every class's counter.
    expect(r.stdout).toContain("in every run's plan: **yes**");
    expect(r.stdout).toContain('New rate on the kernel after every apply: **yes**');
    expect(r.stdout).toContain('every class kept its counter in every run');
  }, 180_000);
});
