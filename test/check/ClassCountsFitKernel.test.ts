import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, withCode } from './harness.js';

const flat = (n: number) =>
  egress(
    Array.from({ length: n }, (_, i) => `    class c${i} rate 8bit ceil 100gbit${i === 0 ? ' default' : ` { match tcp dport ${i} }`}`).join('\n'),
    '100gbit',
  );

describe('ClassCountsFitKernel (QP2021)', () => {
  it('accepts 21844 classes under one parent', () => {
    expect(codesOf(flat(21844)).filter((c) => c === 'QP2021')).toEqual([]);
  }, 30_000);
  it('rejects 21845 classes under one parent', () => {
    const ds = withCode(flat(21845), 'QP2021');
    expect(ds.map((d) => d.message)).toEqual([
      "eth0 egress has 21845 classes directly under it; the kernel's 16-bit filter priorities allow at most 21844",
    ]);
    expect(at(ds[0])).toBe('2:3');
  }, 30_000);
  it('rejects classes nested deeper than 8 levels', () => {
    const open = Array.from({ length: 9 }, (_, i) => `class l${i} rate 1mbit ceil 10mbit default {`).join('\n');
    const src = egress(`${open.replace(/ \{$/, '')}\n${'}\n'.repeat(8)}`);
    const ds = withCode(src, 'QP2021');
    expect(ds.map((d) => d.message)).toEqual([
      "class 'l8' in eth0 egress is nested 9 levels deep; HTB allows at most 8 levels of classes",
    ]);
    expect(codesOf(src.replace(/class l8[^\n]*\n/, '').replace('}\n', ''))).not.toContain('QP2021');
  });
});
