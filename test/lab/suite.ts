// Shared scaffolding of the lab test files: the gate, the one-lab-at-a-time lock,
// timeouts, two-sided assertions and the figures printed with the test output.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { acquireLabLock } from './lock.js';
import { fmt, LAB, type Measured } from './measure.js';
import { requireLabTools } from './topology.js';

/**
 * A lab test file's body: skipped without root/tc/iperf3 (failing under CI=true), its
 * tests in order, and never at the same time as another lab file (lock.ts).
 */
export function labSuite(title: string, body: () => void): void {
  describe.skipIf(!requireLabTools()).sequential(title, () => {
    let release: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      release = await acquireLabLock();
    }, 15 * 60_000);
    afterAll(async () => {
      await release?.();
    });
    body();
  });
}

/** Time for a test that makes `measurements` calls to measure(), plus set-up. */
export const labTimeout = (measurements: number) => 30_000 + measurements * LAB.runs * (LAB.seconds + LAB.omit + 3) * 1000;

/** actual within ±LAB.tolerance of expected: both bounds, so a test can fail either way. */
export function expectNear(actual: number, expected: number, what: string): void {
  const lo = expected * (1 - LAB.tolerance);
  const hi = expected * (1 + LAB.tolerance);
  const msg = `${what}: ${actual.toFixed(2)} Mbit/s, expected ${expected.toFixed(2)} ±${LAB.tolerance * 100}% (${lo.toFixed(2)}–${hi.toFixed(2)})`;
  expect(actual, msg).toBeGreaterThanOrEqual(lo);
  expect(actual, msg).toBeLessThanOrEqual(hi);
}

/** actual at least expected − LAB.tolerance. */
export function expectAtLeast(actual: number, expected: number, what: string): void {
  const lo = expected * (1 - LAB.tolerance);
  expect(actual, `${what}: ${actual.toFixed(2)} Mbit/s, expected at least ${expected.toFixed(2)} −${LAB.tolerance * 100}% (${lo.toFixed(2)})`).toBeGreaterThanOrEqual(lo);
}

/** Prints one measurement: goodput per flow and HTB rate per class, medians and every run. */
export function report(title: string, m: Measured, classes: string[]): void {
  const lines = [`[lab] ${title} — median of ${m.runs.length} runs, Mbit/s (each run in parentheses)`];
  for (const label of Object.keys(m.median.goodput)) lines.push(`  goodput  ${label.padEnd(14)} ${fmt(m, 'goodput', label)}`);
  for (const c of classes) lines.push(`  HTB rate ${c.padEnd(14)} ${fmt(m, 'htb', c)}   packets ${m.median.packets[c]}`);
  console.log(lines.join('\n'));
}
