import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, withCode } from './harness.js';

const flat = (n: number) =>
  egress(
    Array.from({ length: n }, (_, i) => `    class c${i} rate 8bit ceil 100gbit${i === 0 ? ' default' : ` { match tcp dport ${i} }`}`).join('\n'),
    '100gbit',
  );

describe('ClassCountsFitKernel (QP2021)', () => {
  it('accepts 10922 top-level classes', () => {
    expect(codesOf(flat(10922)).filter((c) => c === 'QP2021')).toEqual([]);
  }, 30_000);
  it('rejects 10923 top-level classes (three filter priorities each in 1…0x7fff)', () => {
    const ds = withCode(flat(10923), 'QP2021');
    expect(ds.map((d) => d.message)).toEqual([
      "eth0 egress has 10923 classes directly under it; the kernel's 16-bit filter priorities allow at most 10922",
    ]);
    expect(at(ds[0])).toBe('2:3');
  }, 30_000);
  it('rejects more nested classes than the upper half of the priorities holds', () => {
    const group = (n: number) =>
      egress(
        `    class g rate 1mbit ceil 100gbit default {\n${Array.from({ length: n }, (_, i) => `      class c${i} rate 8bit ceil 100gbit${i === 0 ? ' default' : ` { match tcp dport ${i} }`}`).join('\n')}\n    }`,
        '100gbit',
      );
    expect(codesOf(group(10922)).filter((c) => c === 'QP2021')).toEqual([]);
    expect(withCode(group(10923), 'QP2021').map((d) => d.message)).toEqual([
      'eth0 egress has 10923 nested classes in 1 groups; their filters need more than the 32767 priorities the kernel\'s 16-bit field leaves them',
    ]);
  }, 30_000);
  it('rejects classes nested deeper than 7 levels (the kernel refuses the 8th: "tree is too deep", the root class 1:1 is one)', () => {
    const open = Array.from({ length: 8 }, (_, i) => `class l${i} rate 1mbit ceil 10mbit default {`).join('\n');
    const src = egress(`${open.replace(/ \{$/, '')}\n${'}\n'.repeat(7)}`);
    const ds = withCode(src, 'QP2021');
    expect(ds.map((d) => d.message)).toEqual([
      "class 'l7' in eth0 egress is nested 8 levels deep (counting per-host classes); HTB allows 7 levels of classes below qospolicy's root class",
    ]);
    expect(codesOf(src.replace(/class l7[^\n]*\n/, '').replace('}\n', ''))).not.toContain('QP2021');
  });
});
