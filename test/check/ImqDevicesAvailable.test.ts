import { describe, expect, it } from 'vitest';
import { at, codesOf, ingress, rest, withCode } from './harness.js';

const ifaces = (n: number, backend = '') =>
  Array.from({ length: n }, (_, i) => ingress(rest, '10mbit', `eth${i}`, backend)).join('');
const group = (i: number) => `shared g${i} egress on lan${i} rate 10mbit {\n${rest}\n}\n`;

describe('ImqDevicesAvailable (QP2016)', () => {
  it('accepts 16 IMQ trees, and any number of ifb trees', () => {
    expect(codesOf(ifaces(16, 'imq'))).toEqual([]);
    expect(codesOf(ifaces(15) + group(0), { ingress: 'imq' })).toEqual([]);
    expect(codesOf(ifaces(20))).toEqual([]);
  });
  it('rejects a 17th IMQ tree, counting shared groups under an imq target', () => {
    const src = ifaces(16) + group(0);
    expect(codesOf(src, { ingress: 'imq' })).toEqual(['QP2016']);
    const [d] = withCode(src, 'QP2016', { ingress: 'imq' });
    expect(d.message).toContain('needs 17 IMQ devices');
    expect(d.message).toContain('shared g0 is the 17th');
    expect(at(d)).toBe('81:1'); // 16 interfaces of 5 lines each
  });
  it('counts per-tree `ingress imq` under an ifb target', () => {
    expect(codesOf(ifaces(17, 'imq'))).toEqual(['QP2016']);
    expect(codesOf(ifaces(16, 'imq') + ifaces(1, 'ifb').replace('eth0', 'eth99'))).toEqual([]);
  });
});
