import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

describe('ClassReceivesTraffic (QP3004)', () => {
  it('accepts leaves with matches or default, and groups without matches', () => {
    const src = egress(
      ['    class g rate 4mbit ceil 10mbit {', '      class g1 rate 2mbit ceil 4mbit { match tcp }', '    }', rest].join('\n'),
    );
    expect(codesOf(src)).toEqual([]);
  });
  it('warns about a leaf with neither matches nor default', () => {
    const src = egress(`    class idle rate 1mbit ceil 10mbit\n${rest}`);
    expect(codesOf(src)).toEqual(['QP3004']);
    const [d] = withCode(src, 'QP3004');
    expect(d.message).toBe("class 'idle' in eth0 egress has no match lines and is not default: no traffic reaches it");
    expect(at(d)).toBe('3:11');
  });
});

describe('ClassReceivesTraffic for default leaves', () => {
  const group = (groupAttrs: string, groupLines: string) =>
    egress(
      [
        `    class g rate 4mbit ceil 10mbit${groupAttrs} {${groupLines}`,
        '      class g1 rate 2mbit ceil 4mbit { match tcp dport 22 }',
        '      class g2 rate 2mbit ceil 4mbit default',
        '    }',
        '    class other rate 1mbit ceil 10mbit { match udp }',
        '    class rest rate 1mbit ceil 10mbit default',
      ].join('\n'),
    );
  it("accepts a group's default reached through the tree default or the group's catch-all", () => {
    expect(codesOf(group(' default', '').replace(' ceil 10mbit default\n', ' ceil 10mbit { match icmp }\n'))).toEqual([]);
    expect(codesOf(group('', '\n      match src 10.0.0.0/8'))).toEqual([]);
  });
  it('warns about a default inside a group entered only through its children', () => {
    const src = group('', '');
    expect(codesOf(src)).toEqual(['QP3004']);
    const [d] = withCode(src, 'QP3004');
    expect(d.message).toBe(
      "class 'g2' in eth0 egress receives no traffic: it is the default of 'g', which has no match lines of its own and is not default, so no unmatched traffic falls through to 'g2'",
    );
    expect(at(d)).toBe('5:13');
  });
});
