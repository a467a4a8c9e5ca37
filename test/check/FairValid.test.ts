import { describe, expect, it } from 'vitest';
import { codesOf, egress, rest, withCode } from './harness.js';

describe('FairValid (QP2025)', () => {
  it('accepts fair hosts on an IPv4 /24 and fair flows', () => {
    expect(codesOf(egress(`    class guests rate 2mbit ceil 10mbit fair hosts on 192.168.10.0/24\n    class bulk rate 1mbit ceil 10mbit fair flows\n${rest}`))).not.toContain('QP2025');
  });
  it('rejects a prefix with more than 256 hosts, and IPv6', () => {
    const ds = withCode(egress(`    class a rate 1mbit ceil 10mbit fair hosts on 10.0.0.0/16\n    class b rate 1mbit ceil 10mbit fair hosts on 2001:db8::/64\n${rest}`), 'QP2025');
    expect(ds.map((d) => d.message)).toEqual([
      "'fair hosts on 10.0.0.0/16' would make 65536 classes; at most 256 (a /24)",
      "'fair hosts' takes an IPv4 prefix",
    ]);
  });
  it('rejects fair on a class with children, and fair flows with a FIFO leaf', () => {
    const src = egress(`    class a rate 1mbit ceil 10mbit fair flows {\n      leaf pfifo\n    }\n    class g rate 1mbit ceil 10mbit fair flows {\n      class c rate 1mbit ceil 10mbit default\n    }\n${rest}`);
    expect(withCode(src, 'QP2025').map((d) => d.message)).toEqual([
      "'fair flows' needs a fair leaf qdisc, but class 'a' has leaf pfifo",
      "class 'g' is shared fairly and also has classes of its own",
    ]);
  });
});
