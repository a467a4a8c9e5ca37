import { describe, expect, it } from 'vitest';
import { at, codesOf, relatedAt, withCode } from './harness.js';

const tdma = (...slots: string[]) => `tdma radio0 {\n  frame 10ms\n${slots.map((s) => `  ${s}\n`).join('')}}\n`;

describe('SlotsDoNotOverlap (QP2013)', () => {
  it('accepts adjacent slots', () => {
    expect(codesOf(tdma('slot a at 0ms length 5ms default', 'slot b at 5ms length 5ms'))).toEqual([]);
  });
  it('rejects overlapping slots, pointing at the other one', () => {
    const src = tdma('slot a at 0ms length 5ms default', 'slot b at 4ms length 2ms');
    expect(codesOf(src)).toEqual(['QP2013']);
    const [d] = withCode(src, 'QP2013');
    expect(d.message).toBe("slot 'b' (4ms–6ms) overlaps slot 'a' (0–5ms) from 4ms to 5ms in tdma radio0");
    expect(at(d)).toBe('4:13');
    expect(relatedAt(d)).toEqual(['3:13']);
  });
  it('reports the later slot in the file even when it starts first', () => {
    const [d] = withCode(tdma('slot a at 4ms length 2ms default', 'slot b at 0ms length 5ms'), 'QP2013');
    expect(d.message).toMatch(/^slot 'b'/);
  });
});
