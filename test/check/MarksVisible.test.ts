import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, ingress, rest, withCode } from './harness.js';

const body = `    class a rate 1mbit ceil 10mbit { match mark 0x10/0xf0 }\n${rest}`;
const sharedGroup = (dir: string) => `shared g ${dir} on eth0, eth1 rate 10mbit {\n${body}\n}\n`;

describe('MarksVisible (QP2012)', () => {
  it('accepts marks in egress trees and shared egress groups', () => {
    expect(codesOf(egress(body))).toEqual([]);
    expect(codesOf(sharedGroup('egress'))).toEqual([]);
  });
  it('accepts marks in ingress trees queued through imq (tree or target)', () => {
    expect(codesOf(ingress(body, '10mbit', 'eth0', 'imq'))).toEqual([]);
    expect(codesOf(ingress(body), { ingress: 'imq' })).toEqual([]);
    expect(codesOf(sharedGroup('ingress'), { ingress: 'imq' })).toEqual([]);
  });
  it('accepts conntrack marks (connmark) in an ifb ingress tree', () => {
    expect(codesOf(ingress(`    class a rate 1mbit ceil 10mbit { match connmark 0x10/0xf0 }\n${rest}`))).not.toContain('QP2012');
  });
  it('rejects marks in an ifb ingress tree, with the workarounds in the hint', () => {
    const src = ingress(body);
    expect(codesOf(src)).toEqual(['QP2012']);
    const [d] = withCode(src, 'QP2012');
    expect(d.message).toContain('tc ingress runs before netfilter');
    expect(d.hint).toContain('`ingress imq rate …`');
    expect(d.hint).toContain('`match connmark …`');
    expect(at(d)).toBe('3:44');
  });
  it('rejects marks in a shared ingress group on ifb, and an explicit `ingress ifb` under an imq target', () => {
    expect(codesOf(sharedGroup('ingress'))).toEqual(['QP2012']);
    expect(codesOf(ingress(body, '10mbit', 'eth0', 'ifb'), { ingress: 'imq' })).toEqual(['QP2012']);
  });
});
