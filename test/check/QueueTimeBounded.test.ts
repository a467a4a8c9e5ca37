import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, withCode } from './harness.js';

describe('QueueTimeBounded (QP3009)', () => {
  it('accepts the default leaf and fq_codel at any ceil a frame fits in 100 ms', () => {
    expect(codesOf(egress('    class a rate 100kbit ceil 800kbit default', '800kbit'))).toEqual([]);
    expect(codesOf(egress('    leaf fq_codel\n    class a rate 100kbit ceil 800kbit default', '800kbit'))).toEqual([]);
    expect(codesOf(egress('    leaf bfifo limit 10000\n    class a rate 100kbit ceil 800kbit default', '800kbit'))).toEqual([]);
  });
  it('warns with the figure and the fix when a bfifo holds more than 100 ms at the ceil', () => {
    const src = egress('    leaf bfifo limit 64kb\n    class bulk rate 100kbit ceil 800kbit default', '800kbit');
    expect(codesOf(src)).toEqual(['QP3009']);
    const [d] = withCode(src, 'QP3009');
    expect(d.severity).toBe('warning');
    expect(d.message).toBe("class 'bulk' may queue 655 ms at its ceil 800kbit (bfifo limit 65536 bytes): every packet behind it waits as long");
    expect(d.hint).toBe('lower the limit to 10000 bytes (100 ms at 800kbit), leave `limit` out (the default holds 50 ms), or use `leaf fq_codel`');
    expect(at(d)).toBe('4:11');
  });
  it('counts pfifo and sfq limits in full-sized frames', () => {
    expect(withCode(egress('    leaf pfifo limit 100\n    class a rate 1mbit ceil 10mbit default'), 'QP3009')[0]?.message).toContain('may queue 121 ms');
    expect(withCode(egress('    leaf sfq\n    class a rate 1mbit ceil 10mbit default'), 'QP3009')[0]?.message).toContain('sfq limit 127 packets');
  });
  it('names the frame floor on a very slow class', () => {
    const [d] = withCode(egress('    class a rate 100kbit ceil 200kbit default', '200kbit'), 'QP3009');
    expect(d?.message).toContain("class 'a' may queue 121 ms at its ceil 200kbit");
    expect(d?.hint).toBe('at 200kbit two full-sized frames take 121 ms: raise the ceil to at least 243kbit, or accept the delay');
  });
});
