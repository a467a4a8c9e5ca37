import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

const cls = (m: string) => egress(`    class a rate 1mbit ceil 10mbit { match ${m} }\n${rest}`);

describe('PrefixWithoutHostBits (QP3002)', () => {
  it('accepts network addresses and host addresses', () => {
    expect(codesOf(cls('src 10.1.2.0/24, 10.1.2.3, 2001:db8::/32, 0.0.0.0/0'))).toEqual([]);
  });
  it('warns about host bits with the network address in the hint', () => {
    const src = cls('src 10.1.2.3/24');
    expect(codesOf(src)).toEqual(['QP3002']);
    const [d] = withCode(src, 'QP3002');
    expect(d.severity).toBe('warning');
    expect(d.message).toBe('prefix 10.1.2.3/24 has host bits set; it matches all of 10.1.2.0/24');
    expect(d.hint).toBe('write 10.1.2.0/24 for the network, or 10.1.2.3/32 for the single host');
    expect(at(d)).toBe('3:48');
  });
  it('works for IPv6', () => {
    expect(withCode(cls('dst 2001:db8::1/64'), 'QP3002')[0].message).toContain('matches all of 2001:db8::/64');
  });
});
