import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

const cls = (m: string) => egress(`    class a rate 1mbit ceil 10mbit { match ${m} }\n${rest}`);

describe('PortsInRange (QP2008)', () => {
  it('accepts ports 0–65535 and ascending ranges', () => {
    expect(codesOf(cls('udp dport 0, 5060, 10000-20000, 65535'))).toEqual([]);
  });
  it('rejects a port above 65535', () => {
    const src = cls('udp dport 5060, 70000');
    expect(codesOf(src)).toEqual(['QP2008']);
    const [d] = withCode(src, 'QP2008');
    expect(d.message).toBe('dport 70000: 70000 is not a port (ports are whole numbers 0–65535)');
    expect(at(d)).toBe('3:60');
  });
  it('rejects a reversed range with the fix in the hint', () => {
    const [d] = withCode(cls('tcp sport 2000-1000'), 'QP2008');
    expect(d.message).toBe('sport range 2000-1000 is reversed: 2000 is above 1000');
    expect(d.hint).toBe('write 1000-2000');
  });
});
