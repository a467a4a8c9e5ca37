import { describe, expect, it } from 'vitest';
import { at, codesOf, relatedAt, withCode } from './harness.js';

describe('OneDefaultSlot (QP2004)', () => {
  it('accepts one default slot', () => {
    expect(codesOf('tdma radio0 {\n  frame 10ms\n  slot a at 0ms length 4ms default\n  slot b at 4ms length 4ms { match udp }\n}\n')).toEqual([]);
  });
  it('rejects two default slots', () => {
    const src = 'tdma radio0 {\n  frame 10ms\n  slot a at 0ms length 4ms default\n  slot b at 4ms length 4ms default\n}\n';
    expect(codesOf(src)).toEqual(['QP2004']);
    const [d] = withCode(src, 'QP2004');
    expect(d.message).toBe("tdma radio0 has 2 default slots ('a' and 'b'); at most one slot can be default");
    expect(at(d)).toBe('4:28');
    expect(relatedAt(d)).toEqual(['3:28', '4:28']);
  });
});
