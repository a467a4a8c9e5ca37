// The checker never throws, whatever partial AST the front end hands it (NaN rates, missing
// rates, slots without times, empty trees), under every target setting.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzz, fuzzTimeout } from '../support/fuzz.js';
import { readFileSync, readdirSync } from 'node:fs';
import { diagnosticsOf, FILE } from './harness.js';
import { parsePolicy } from '../../src/syntax/index.js';
import { check } from '../../src/check/index.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
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
  const { policy, diagnostics: front } = parsePolicy(FILE, text, {});
  const spanOf = (d: Diagnostic) => d.span && `${d.span.start.offset}-${d.span.end.offset}`;
  const frontErrors = new Set(front.filter((d) => d.severity === 'error').map(spanOf));
  for (const d of [...front, ...check(policy, s).diagnostics]) {
    expect(CODES).toHaveProperty(d.code);
    expect(d.message).not.toMatch(/NaN|undefined|\[object/);
  }
  // One mistake, one error: the checker adds no error where the front end's (a bad unit, an
  // unknown name, a syntax error) already points.
  for (const d of check(policy, s).diagnostics) {
    if (d.severity === 'error' && d.span) expect(frontErrors.has(spanOf(d)), `${d.code} ${d.message}: a second error at ${spanOf(d)}`).toBe(false);
  }
}

describe('property: checker rules never throw on broken input', () => {
  it('replacing one word of a real policy', async () => {
    await fuzz(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.constantFrom(...REPLACEMENTS), settings, (seed, n, repl, s) => {
        const words = seed.split(/(\s+)/);
        const i = (n % Math.ceil(words.length / 2)) * 2;
        words[i] = repl;
        run(words.join(''), s);
      }), { runs: 1500 }
    );
  }, fuzzTimeout(60_000));
  it('deleting or duplicating lines of a real policy', async () => {
    await fuzz(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.nat({ max: 4 }), fc.boolean(), settings, (seed, n, len, dup, s) => {
        const lines = seed.split('\n');
        const i = n % lines.length;
        const cut = lines.splice(i, len);
        if (dup) lines.splice(i, 0, ...cut, ...cut);
        run(lines.join('\n'), s);
      }), { runs: 1500 }
    );
  }, fuzzTimeout(60_000));
});

// Counterexamples the properties found, kept as fixed cases: each is one mistake, and gets
// exactly one error.
describe('regressions found by the properties', () => {
  const oneError = (text: string, code: string, message: RegExp) => {
    const errors = diagnosticsOf(text).filter((d) => d.severity === 'error');
    expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([expect.stringMatching(new RegExp(`^${code} ${message.source}`))]);
  };
  it("'overhead default': an unknown name, not also 'overhead NaN is outside -64…256 bytes'", () => {
    oneError('interface eth0 {\n  link overhead default\n  egress rate 10mbit { class a rate 5mbit ceil 5mbit default }\n}\n', 'QP1011', /unknown name 'default'/);
  });
  it("a rate where a number belongs ('let x = 10mbit' … 'overhead x'): one error that says so", () => {
    oneError('let x = 10mbit\ninterface eth0 {\n  link overhead x\n  egress rate 10mbit { class a rate 5mbit ceil 5mbit default }\n}\n', 'QP1006', /'x' is 10mbit, not a number/);
  });
  it("a second target block that lost its '{' (found by npm run fuzz, seed 2057148700): two mistakes, two errors, both the front end's", () => {
    const text = '# expect: QP2017\ntarget { ingress imq }\ninterface wan0 {\n  egress rate 19mbit {\n    class rest rate 19mbit ceil 19mbit default\n  }\n}\ntarget } tdma taprio }\n';
    expect(diagnosticsOf(text).filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(expect.arrayContaining(['QP1009', 'QP2017']));
    run(text, { ingress: 'ifb', tdma: 'taprio' });
  });
});
