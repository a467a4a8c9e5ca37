import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, withCode } from './harness.js';

describe('CeilWithinParentCeil (QP2003)', () => {
  it("accepts ceils up to the parent's", () => {
    const src = egress(
      [
        '    class a rate 4mbit ceil 8mbit {',
        '      class a1 rate 2mbit ceil 8mbit { match tcp dport 22 }',
        '      class a2 rate 2mbit ceil 8mbit { match udp }',
        '    }',
        '    class b rate 6mbit ceil 10mbit default',
      ].join('\n'),
    );
    expect(codesOf(src)).toEqual([]);
  });
  it("rejects a top-level ceil above the tree's rate", () => {
    const src = egress(['    class a rate 1mbit ceil 20mbit { match tcp dport 22 }', '    class b rate 1mbit ceil 10mbit default'].join('\n'));
    expect(codesOf(src)).toEqual(['QP2003']);
    const [d] = withCode(src, 'QP2003');
    expect(d.message).toBe("class 'a' has ceil 20mbit, above the rate 10mbit of eth0 egress");
    expect(at(d)).toBe('3:29');
    expect(relatedAt(d)).toEqual(['2:15']);
  });
  it("rejects a child's ceil above its group's ceil", () => {
    const src = egress(
      [
        '    class a rate 4mbit ceil 8mbit {',
        '      class a1 rate 2mbit ceil 9mbit { match tcp dport 22 }',
        '      class a2 rate 2mbit ceil 8mbit { match udp }',
        '    }',
        '    class b rate 6mbit ceil 10mbit default',
      ].join('\n'),
    );
    const [d] = withCode(src, 'QP2003');
    expect(d.message).toBe("class 'a1' has ceil 9mbit, above its parent's ceil 8mbit");
    expect(relatedAt(d)).toEqual(['3:29']);
  });
});
