import { describe, expect, it } from 'vitest';
import { at, codesOf, relatedAt, withCode } from './harness.js';

const tdma = (...slots: string[]) => `tdma radio0 {\n  frame 10ms\n${slots.map((s) => `  ${s}\n`).join('')}}\n`;

describe('SlotsWithinFrame (QP2014)', () => {
  it('accepts a slot that ends with the frame', () => {
    expect(codesOf(tdma('slot a at 6ms length 4ms default'))).toEqual([]);
  });
  it('rejects a slot that ends after the frame', () => {
    const src = tdma('slot a at 6ms length 5ms default');
    expect(codesOf(src)).toEqual(['QP2014']);
    const [d] = withCode(src, 'QP2014');
    expect(d.message).toBe("slot 'a' ends at 11ms, after the 10ms frame of tdma radio0");
    expect(d.hint).toContain('shorten the slot to 4ms or less');
    expect(at(d)).toBe('3:13');
    expect(relatedAt(d)).toEqual(['2:9']);
  });
  it('rejects a slot that starts after the frame, and a zero-length slot', () => {
    expect(withCode(tdma('slot a at 12ms length 1ms default'), 'QP2014')[0].message).toContain('starts at 12ms, after');
    expect(withCode(tdma('slot a at 0ms length 0ms default'), 'QP2014')[0].message).toBe("slot 'a' has length 0: it never opens");
  });
});
