import { describe, expect, it } from 'vitest';
import { at, codesOf, withCode } from './harness.js';

describe('TdmaScheduleComplete (QP1009)', () => {
  it('accepts a frame with slots', () => {
    expect(codesOf('tdma radio0 {\n  frame 10ms\n  slot a at 0ms length 4ms default\n}\n')).toEqual([]);
  });
  it('rejects a tdma block without a frame, and without slots', () => {
    const src = 'tdma radio0 {\n  slot a at 0ms length 4ms default\n}\n';
    expect(codesOf(src)).toEqual(['QP1009']);
    const [d] = withCode(src, 'QP1009');
    expect(d.message).toBe("tdma radio0 has no 'frame'");
    expect(at(d)).toBe('1:6');
    expect(withCode('tdma radio0 {\n  frame 10ms\n}\n', 'QP1009')[0].message).toBe('tdma radio0 has no slots');
  });
});
