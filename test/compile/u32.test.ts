// The u32 key arithmetic: exact covers for ranges, complements for negation, header offsets.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzz, fuzzTimeout } from '../support/fuzz.js';
import { complementPrefixes, matchNodes } from '../../src/backends/u32.js';
import { complementRanges, rangeToMasks } from '../../src/kernel/ranges.js';
import { parsePolicy } from '../../src/syntax/index.js';

const covers = (blocks: Array<{ val: number; mask: number }>, x: number) => blocks.some((b) => (x & b.mask) === b.val);

describe('u32 keys', () => {
  it('a port range becomes value/mask blocks that cover exactly the range', async () => {
    await fuzz(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (a, b, x) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const blocks = rangeToMasks(lo, hi);
        expect(covers(blocks, x)).toBe(x >= lo && x <= hi);
        expect(blocks.length).toBeLessThanOrEqual(30);
      }),
    );
    expect(rangeToMasks(10000, 20000)).toHaveLength(11);
  }, fuzzTimeout(60_000));

  it('negated ports: the complement of the ranges', () => {
    expect(complementRanges([{ lo: 22, hi: 22 }], 65535)).toEqual([{ lo: 0, hi: 21 }, { lo: 23, hi: 65535 }]);
    expect(complementRanges([{ lo: 0, hi: 65535 }], 65535)).toEqual([]);
  });

  it('negated prefixes: the complement covers everything else, nothing inside', () => {
    const span = undefined as never;
    const out = complementPrefixes([{ family: 4, address: '10.0.0.0', length: 8, span }], 4);
    expect(out.map((p) => `${p.address}/${p.length}`)).toEqual([
      '0.0.0.0/5', '8.0.0.0/7', '11.0.0.0/8', '12.0.0.0/6', '16.0.0.0/4', '32.0.0.0/3', '64.0.0.0/2', '128.0.0.0/1',
    ]);
    const two = complementPrefixes(
      [{ family: 4, address: '10.0.0.0', length: 8, span }, { family: 4, address: '192.168.0.0', length: 16, span }],
      4,
    );
    expect(two.some((p) => p.address === '10.0.0.0')).toBe(false);
    expect(complementPrefixes([{ family: 6, address: '2001:db8::', length: 32, span }], 6)).toHaveLength(32);
  });

  it('TCP flags, lengths and MACs sit at the right offsets for IPv4 and IPv6', () => {
    const m = parsePolicy('t.pol', 'interface e {\n  ingress rate 1mbit {\n    class a rate 1kbit ceil 1mbit default { match tcp ack len <64 mac 02:00:5e:10:00:01 }\n  }\n}\n').policy
      .interfaces[0].ingress!.classes[0].matches[0];
    const [v4] = matchNodes(m, 4, '1:10');
    expect(v4.keys).toEqual([
      { off: -8, val: 0x02005e10, mask: 0xffffffff },
      { off: -4, val: 0x00010000, mask: 0xffff0000 },
      { off: 0, val: 0x05000000, mask: 0x0f00ffc0 }, // IHL 5, total length < 64
      { off: 4, val: 0, mask: 0x00001fff },
      { off: 8, val: 0x00060000, mask: 0x00ff0000 },
      { off: 32, val: 0x00100000, mask: 0x00100000 },
    ]);
    // IPv6 carries the payload length: a packet below 64 bytes has a payload of 0…23,
    // two blocks (0…15, 16…23), each beside the next-header byte (6, tcp) in the word at 4.
    const v6 = matchNodes(m, 6, '1:10');
    expect(v6).toHaveLength(2);
    expect(v6[0].keys).toContainEqual({ off: 52, val: 0x00100000, mask: 0x00100000 });
    expect(v6.map((n) => n.keys.find((k) => k.off === 4))).toEqual([
      { off: 4, val: 0x00000600, mask: 0xfff0ff00 },
      { off: 4, val: 0x00100600, mask: 0xfff8ff00 },
    ]);
  });
});
