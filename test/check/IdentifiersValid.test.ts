import { describe, expect, it } from 'vitest';
import { at, codesOf, egress, withCode } from './harness.js';

describe('IdentifiersValid (QP2006)', () => {
  it('accepts identifiers with digits, _ and -', () => {
    expect(codesOf(egress('    class bulk_2-low rate 1mbit ceil 10mbit default'))).toEqual([]);
  });
  it('rejects class, slot and group names that are not identifiers', () => {
    const src = [
      egress('    class voice.rtp rate 1mbit ceil 10mbit default'),
      'shared up:link egress on eth1 rate 10mbit { class rest rate 1mbit ceil 10mbit default }\n',
      'tdma radio0 { frame 10ms\n slot me/1 at 0ms length 1ms default }\n',
    ].join('');
    expect(codesOf(src)).toEqual(['QP2006', 'QP2006', 'QP2006']);
    const ds = withCode(src, 'QP2006');
    expect(ds.map(at)).toEqual(['3:11', '6:8', '8:7']);
    expect(ds[0].message).toBe("class name 'voice.rtp' is not an identifier: it contains '.'");
    expect(ds[0].hint).toContain("'voice_rtp'");
  });
  it('names a character outside the BMP whole, and replaces it by one _', () => {
    const [d] = withCode(egress('    class a\u{1F600}b rate 1mbit ceil 10mbit default'), 'QP2006');
    expect(d.message).toBe("class name 'a\u{1F600}b' is not an identifier: it contains '\u{1F600}'");
    expect(d.hint).toContain("(e.g. 'a_b')");
  });
});
