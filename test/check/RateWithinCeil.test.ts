import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, relatedAt, rest, withCode } from './harness.js';

describe('RateWithinCeil (QP2001)', () => {
  it('accepts rate ≤ ceil', () => {
    expect(codesOf(egress(`    class a rate 2mbit ceil 2mbit { match tcp dport 22 }\n${rest}`))).toEqual([]);
  });
  it('rejects rate above ceil, pointing at the rate and the ceil', () => {
    const src = egress(`    class a rate 3mbit ceil 2mbit { match tcp dport 22 }\n${rest}`);
    expect(codesOf(src)).toEqual(['QP2001']);
    const [d] = withCode(src, 'QP2001');
    expect(d.message).toBe("class 'a' has rate 3mbit above its ceil 2mbit");
    expect(at(d)).toBe('3:18');
    expect(relatedAt(d)).toEqual(['3:29']);
  });
});
