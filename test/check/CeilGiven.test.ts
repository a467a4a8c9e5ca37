import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

describe('CeilGiven (QP3003)', () => {
  it('accepts classes with a ceil', () => {
    expect(codesOf(egress(`    class a rate 1mbit ceil 1mbit { match tcp }\n${rest}`))).toEqual([]);
  });
  it("warns that a class without ceil may borrow up to its parent's ceil, and names it", () => {
    const src = egress(`    class a rate 1mbit { match tcp }\n${rest}`, '95mbit');
    expect(codesOf(src)).toEqual(['QP3003']);
    const [d] = withCode(src, 'QP3003');
    expect(d.severity).toBe('warning');
    expect(d.message).toBe(
      "class 'a' has no ceil: it may borrow up to its parent's ceil 95mbit (the rate of eth0 egress); its rate 1mbit alone does not cap it",
    );
    expect(d.hint).toBe('add `ceil 1mbit` to cap it at its rate, or `ceil 95mbit` to make the borrowing explicit');
    expect(at(d)).toBe('3:11');
  });
  it("names the group's ceil for a child", () => {
    const src = egress(
      ['    class g rate 4mbit ceil 8mbit default {', '      class g1 rate 2mbit default', '    }'].join('\n'),
    );
    expect(withCode(src, 'QP3003')[0].message).toContain("parent's ceil 8mbit (the ceil of 'g')");
  });
});
