import { describe, expect, it } from 'vitest';
import { codesOf, egress, ingress, rest, withCode } from './harness.js';

describe('MatchPlacement (QP2024, QP3007)', () => {
  it('accepts mac on ingress and rejects it on egress', () => {
    expect(codesOf(ingress(`    class a rate 1mbit ceil 10mbit { match mac 00:11:22:aa:bb:cc }\n${rest}`))).not.toContain('QP2024');
    const [d] = withCode(egress(`    class a rate 1mbit ceil 10mbit { match mac 00:11:22:aa:bb:cc }\n${rest}`), 'QP2024');
    expect(d.message).toContain('only known on ingress');
  });
  it('connmark: accepted with a first-packet warning on ifb ingress, rejected elsewhere', () => {
    const ok = withCode(ingress(`    class a rate 1mbit ceil 10mbit { match connmark 0x1 }\n${rest}`), 'QP3007');
    expect(ok).toHaveLength(1);
    expect(ok[0].message).toContain('first packet of each flow has no mark yet');
    expect(codesOf(egress(`    class a rate 1mbit ceil 10mbit { match connmark 0x1 }\n${rest}`))).toContain('QP2024');
    expect(codesOf(ingress(`    class a rate 1mbit ceil 10mbit { match connmark 0x1 }\n${rest}`, '10mbit', 'eth0', 'imq'))).toContain('QP2024');
  });
  it('rejects TCP flags on udp and empty length ranges', () => {
    expect(codesOf(egress(`    class a rate 1mbit ceil 10mbit { match udp syn }\n${rest}`))).toContain('QP2019');
    expect(codesOf(egress(`    class a rate 1mbit ceil 10mbit { match len 200-100 }\n${rest}`))).toContain('QP2008');
    expect(codesOf(egress(`    class a rate 1mbit ceil 10mbit { match tcp ack len <64 }\n${rest}`))).toEqual([]);
  });
});
