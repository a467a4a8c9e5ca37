import { describe, expect, it } from 'vitest';
import { at, codesOf, relatedAt, withCode } from './harness.js';

describe('TdmaDefaultSlot (QP3005)', () => {
  it('accepts a tdma block with a default slot', () => {
    expect(codesOf('tdma radio0 {\n  frame 10ms\n  slot a at 0ms length 4ms { match udp }\n  slot b at 4ms length 4ms default\n}\n')).toEqual([]);
  });
  it('warns and names the slot that opens first in the frame (traffic class 0)', () => {
    const src = 'tdma radio0 {\n  frame 10ms\n  slot beacon at 5ms length 1ms { match udp }\n  slot data at 0ms length 4ms { match tcp }\n}\n';
    expect(codesOf(src)).toEqual(['QP3005']);
    const [d] = withCode(src, 'QP3005');
    expect(d.severity).toBe('warning');
    expect(d.message).toBe("tdma radio0 has no default slot: traffic that matches no slot is sent in the first slot of the frame, 'data'");
    expect(at(d)).toBe('1:6');
    expect(relatedAt(d)).toEqual(['4:8']);
  });
});
