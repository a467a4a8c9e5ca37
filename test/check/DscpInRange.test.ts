import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, rest, withCode } from './harness.js';

const cls = (m: string) => egress(`    class a rate 1mbit ceil 10mbit { match ${m} }\n${rest}`);

describe('DscpInRange (QP2010)', () => {
  it('accepts numbers 0–63 and names', () => {
    expect(codesOf(cls('dscp 0, 46, 63, ef, af41, cs6'))).toEqual([]);
  });
  it('rejects a number above 63, suggesting the TOS reading', () => {
    const src = cls('dscp 184');
    expect(codesOf(src)).toEqual(['QP2010']);
    const [d] = withCode(src, 'QP2010');
    expect(d.message).toBe('dscp 184 is out of range: DSCP is a 6-bit field (0–63)');
    expect(d.hint).toContain('its DSCP is 46');
    expect(at(d)).toBe('3:49');
  });
  it('reports an unknown name once (lowering does it)', () => {
    expect(codesOf(cls('dscp eff'))).toEqual(['QP2010']);
  });
});
