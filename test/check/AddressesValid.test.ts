import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

const cls = (m: string) => egress(`    class a rate 1mbit ceil 10mbit { match ${m} }\n${rest}`);

describe('AddressesValid (QP2009)', () => {
  it('accepts IPv4 and IPv6 addresses and prefixes', () => {
    expect(codesOf(cls('src 10.0.0.0/8, 192.0.2.7'))).toEqual([]);
    expect(codesOf(cls('dst 2001:db8::/32, ::ffff:192.0.2.0/120, fe80::1'))).toEqual([]);
  });
  it('rejects an invalid IPv4 address', () => {
    const src = cls('src 10.0.300.0/24');
    expect(codesOf(src)).toEqual(['QP2009']);
    const [d] = withCode(src, 'QP2009');
    expect(d.message).toBe("'10.0.300.0' is not a valid IPv4 address");
    expect(at(d)).toBe('3:48');
  });
  it('rejects leading zeros and MAC addresses with a hint', () => {
    expect(withCode(cls('src 010.0.0.1'), 'QP2009')[0].hint).toBe('leading zeros read as octal in some tools: write 10.0.0.1');
    expect(withCode(cls('src 00:11:22:33:44:55'), 'QP2009')[0].hint).toContain('MAC address');
  });
  it('rejects prefix lengths out of range for the family', () => {
    expect(withCode(cls('dst 10.0.0.0/33'), 'QP2009')[0].message).toBe('prefix length /33 is out of range for IPv4 (0–32)');
    expect(withCode(cls('dst 2001:db8::/129'), 'QP2009')[0].message).toBe('prefix length /129 is out of range for IPv6 (0–128)');
    expect(codesOf(cls('dst 2001:db8::/128'))).toEqual([]);
  });
});
