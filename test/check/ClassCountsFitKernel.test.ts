import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, withCode } from './harness.js';

// `sport 1024 dport N`: two ports, so no hashed run — a slot of priorities per class.
const flat = (n: number) =>
  egress(
    Array.from({ length: n }, (_, i) => `    class c${i} rate 8bit ceil 100gbit${i === 0 ? ' default' : ` { match tcp sport 1024 dport ${i} }`}`).join('\n'),
    '100gbit',
  );
/** n classes matching one host each: one hashed run, one slot however many (check/hashruns.ts). */
const hosts = (n: number, indent = '    ') =>
  Array.from({ length: n }, (_, i) => `${indent}class h${i} rate 8bit ceil 100gbit { match dst 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} }`).join('\n');

describe('ClassCountsFitKernel (QP2021)', () => {
  it('accepts 10922 top-level classes', () => {
    expect(codesOf(flat(10922)).filter((c) => c === 'QP2021')).toEqual([]);
  }, 30_000);
  it('rejects 10923 top-level classes (three filter priorities each in 1…0x7fff)', () => {
    const ds = withCode(flat(10923), 'QP2021');
    expect(ds.map((d) => d.message)).toEqual([
      "eth0 egress has 10923 classes directly under it, whose filters take 10923 slots of priorities; the kernel's 16-bit filter priorities allow at most 10922",
    ]);
    expect(at(ds[0])).toBe('2:3');
  }, 30_000);
  it('rejects more nested classes than the upper half of the priorities holds', () => {
    const group = (n: number) =>
      egress(
        `    class g rate 1mbit ceil 100gbit default {\n${Array.from({ length: n }, (_, i) => `      class c${i} rate 8bit ceil 100gbit${i === 0 ? ' default' : ` { match tcp sport 1024 dport ${i} }`}`).join('\n')}\n    }`,
        '100gbit',
      );
    expect(codesOf(group(10922)).filter((c) => c === 'QP2021')).toEqual([]);
    expect(withCode(group(10923), 'QP2021').map((d) => d.message)).toEqual([
      "eth0 egress has 10923 nested classes in 1 groups, whose filters take 10923 slots of three priorities; they need more than the 32767 priorities the kernel's 16-bit field leaves them",
    ]);
  }, 30_000);
  it('counts a hashed run of address classes as one slot: 50 000 at the top or nested pass, 65 001 classes do not', () => {
    const top = (n: number) => egress(`    class other rate 8bit ceil 100gbit default\n    class voip rate 8bit ceil 100gbit { match udp dport 5060 }\n${hosts(n)}`, '100gbit');
    expect(codesOf(top(50_000)).filter((c) => c === 'QP2021')).toEqual([]);
    const nested = egress(`    class other rate 8bit ceil 100gbit default\n    class site rate 8bit ceil 100gbit {\n${hosts(50_000, '      ')}\n    }`, '100gbit');
    expect(codesOf(nested).filter((c) => c === 'QP2021')).toEqual([]);
    expect(withCode(top(65_000), 'QP2021').map((d) => d.message)).toEqual([
      'eth0 egress has 65002 classes; HTB class ids are 16-bit and a tree holds at most 65000',
    ]);
  }, 60_000);
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
