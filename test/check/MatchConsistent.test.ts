import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, rest, withCode } from './harness.js';

const cls = (m: string) => egress(`    class a rate 1mbit ceil 10mbit { match ${m} }\n${rest}`);

describe('MatchConsistent (QP2019)', () => {
  it('accepts consistent lines', () => {
    expect(codesOf(cls('udp sport 5060 dport 5060 src 10.0.0.0/8 dst 192.0.2.0/24 dscp ef'))).toEqual([]);
    expect(codesOf(cls('src 10.0.0.0/8, 2001:db8::/32 dst 2001:db8:1::/48'))).toEqual([]);
    expect(codesOf(cls('icmp src 10.0.0.0/8'))).toEqual([]);
  });
  it('rejects two protocols in one line', () => {
    const src = cls('tcp udp dport 53');
    expect(codesOf(src)).toEqual(['QP2019']);
    const [d] = withCode(src, 'QP2019');
    expect(d.message).toBe("match line in class 'a' (eth0 egress) asks for both tcp and udp: a packet has one protocol");
    expect(at(d)).toBe('3:48');
    expect(relatedAt(d)).toEqual(['3:44']);
  });
  it('rejects the same criterion twice', () => {
    expect(withCode(cls('tcp dport 80 dport 443'), 'QP2019')[0].message).toBe(
      "match line in class 'a' (eth0 egress) gives 'dport' twice",
    );
  });
  it('rejects ports with icmp', () => {
    expect(withCode(cls('icmp dport 7'), 'QP2019')[0].message).toContain('dport with icmp: ICMP has no ports');
  });
  it('rejects src and dst of different families', () => {
    const [d] = withCode(cls('src 10.0.0.0/8 dst 2001:db8::/32'), 'QP2019');
    expect(d.message).toContain('has an IPv4 src and an IPv6 dst');
    expect(at(d)).toBe('3:59');
  });
  it('checks tdma slots too', () => {
    expect(codesOf('tdma radio0 { frame 10ms\n slot a at 0ms length 1ms default { match tcp udp } }\n')).toEqual(['QP2019']);
  });
});
