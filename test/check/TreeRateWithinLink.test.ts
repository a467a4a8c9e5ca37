import { describe, expect, it } from 'vitest';
import { at, codesOf, relatedAt, rest, withCode } from './harness.js';

const iface = (link: string, down: string, up: string) =>
  `interface eth0 {\n  link ${link}\n  ingress rate ${down} {\n${rest}\n  }\n  egress rate ${up} {\n${rest}\n  }\n}\n`;

describe('TreeRateWithinLink (QP2018)', () => {
  it('accepts trees at or below the link rates', () => {
    expect(codesOf(iface('down 100mbit up 20mbit', '95mbit', '20mbit').replaceAll('10mbit', '19mbit'))).toEqual([]);
  });
  it('rejects an ingress tree above link down and an egress tree above link up', () => {
    const src = iface('down 100mbit up 20mbit', '120mbit', '25mbit');
    expect(codesOf(src)).toEqual(['QP2018', 'QP2018']);
    const ds = withCode(src, 'QP2018');
    expect(ds[0].message).toBe("ingress rate 120mbit of 'eth0' is above its link rate (down 100mbit)");
    expect(ds.map(at)).toEqual(['3:16', '6:15']);
    expect(ds.map(relatedAt)).toEqual([['2:13'], ['2:24']]);
  });
});
