// The checker never throws, whatever partial AST the front end hands it (NaN rates, missing
// rates, slots without times, empty trees), under every target setting.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { diagnosticsOf } from './harness.js';
import { CODES } from '../../src/diagnostics/codes.js';

const seeds = ['test/cases', 'test/cases-failed']
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.pol')).map((f) => `${dir}/${f}`))
  .map((f) => readFileSync(f, 'utf8'));

const settings = fc.record({
  ingress: fc.constantFrom('ifb' as const, 'imq' as const),
  tdma: fc.constantFrom('taprio' as const, 'module' as const),
});

const REPLACEMENTS = ['', '0', '0bit', '1bit', '99999', '10mbitt', '5%', '200%', '0ms', '5s', '1.5', '0xffffffffff', 'default', 'class x', '}', '{', '\n'];

function run(text: string, s: { ingress: 'ifb' | 'imq'; tdma: 'taprio' | 'module' }): void {
  for (const d of diagnosticsOf(text, s)) {
    expect(CODES).toHaveProperty(d.code);
    expect(d.message).not.toMatch(/NaN|undefined|\[object/);
  }
}

describe('property: checker rules never throw on broken input', () => {
  it('replacing one word of a real policy', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.constantFrom(...REPLACEMENTS), settings, (seed, n, repl, s) => {
        const words = seed.split(/(\s+)/);
        const i = (n % Math.ceil(words.length / 2)) * 2;
        words[i] = repl;
        run(words.join(''), s);
      }),
      { numRuns: 1500 },
    );
  });
  it('deleting or duplicating lines of a real policy', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.nat({ max: 4 }), fc.boolean(), settings, (seed, n, len, dup, s) => {
        const lines = seed.split('\n');
        const i = n % lines.length;
        const cut = lines.splice(i, len);
        if (dup) lines.splice(i, 0, ...cut, ...cut);
        run(lines.join('\n'), s);
      }),
      { numRuns: 1500 },
    );
  });
});
