import { describe, expect, it } from 'vitest';
import type { Filter, HtbClass, KernelObject, Qdisc, U32Node } from '../../src/model/index.js';
import { expectedReadback, packU32Keys, parseClasses, parseFilters, parseQdiscs } from '../../src/state/index.js';
import { htbBufferRoundTrip, htbDefaultBurst, shownRate, shownSize } from '../../src/kernel/readback.js';
import { fixture } from './fixture.js';

const cls = (classid: string, parent: string, rate: number, ceil: number, prio: number, quantum: number, burst: number, cburst: number): HtbClass => ({
  kind: 'class',
  id: `class/v0/${classid}`,
  dev: 'v0',
  classid,
  parent,
  rate,
  ceil,
  prio,
  quantum,
  burst,
  cburst,
});

describe('what tc shows for a requested value', () => {
  it('rates: bytes/s truncated, then 1000-based prefixes with truncating division', () => {
    expect(shownRate(123)).toBe(120);
    expect(shownRate(8)).toBe(8);
    expect(shownRate(1_234_567)).toBe(1_234_000);
    expect(shownRate(1_500_000)).toBe(1_500_000);
    expect(shownRate(20e6)).toBe(20e6);
    expect(shownRate(10e9)).toBe(10e9);
    expect(shownRate(999_999_000)).toBe(999_999_000);
  });
  it('sizes: Kb within 16 bytes and Mb within 1024 bytes print as whole units', () => {
    expect(shownSize(1600)).toBe(1600);
    expect(shownSize(3069)).toBe(3072);
    expect(shownSize(3050)).toBe(3050);
    expect(shownSize(1049000)).toBe(1048576);
    expect(shownSize(1047560)).toBe(1023 * 1024); // below 1 Mb: within 16 bytes of 1023Kb
    expect(shownSize(1048000)).toBe(1048000);
    expect(shownSize(0)).toBe(0);
  });
  it('htb bursts: bytes → whole µs → 64 ns ticks and back, wrapping at 32 bits for tiny rates', () => {
    expect(htbBufferRoundTrip(10e9, 15 * 1024)).toBe(13750);
    expect(htbBufferRoundTrip(10e9, 1600)).toBe(0);
    expect(htbBufferRoundTrip(1e9, 1600)).toBe(1375);
    expect(htbBufferRoundTrip(8, 1600)).toBe(225);
    expect(htbBufferRoundTrip(123, 1600)).toBe(1599);
    expect(htbDefaultBurst(20e6)).toBe(1600);
    expect(htbDefaultBurst(10e9)).toBe(1601);
  });
  it('u32 keys: values masked, keys at one offset merged into one word', () => {
    expect(
      packU32Keys([
        { off: 20, val: 0x00160000, mask: 0xffff0000 },
        { off: 16, val: 0xc0000205, mask: 0xffffff00 },
        { off: 20, val: 0x00000050, mask: 0x0000ffff },
      ]),
    ).toEqual([
      { off: 20, val: 0x00160050, mask: 0xffffffff },
      { off: 16, val: 0xc0000200, mask: 0xffffff00 },
    ]);
  });
});

describe('expectedReadback matches what was read from the kernel (fixtures from record.sh)', () => {
  it('htb classes: the requested values of record.sh read back exactly as tc showed them', () => {
    // What record.sh asked for; bursts tc chose itself are htbDefaultBurst(rate).
    const desired: KernelObject[] = [
      cls('1:1', '1:', 10e9, 10e9, 0, 200000, 15 * 1024, 1600),
      cls('1:a3', '1:2', 20e6, 1e9, 3, 1514, htbDefaultBurst(20e6), htbDefaultBurst(1e9)),
      cls('1:10', '1:2', 8, 123, 0, 1500, htbDefaultBurst(8), htbDefaultBurst(123)),
      cls('1:20', '1:1', 500e3, 2e6, 7, 3000, 1024 * 1024, htbDefaultBurst(2e6)),
      cls('1:2', '1:1', 1e9, 10e9, 1, 60000, htbDefaultBurst(1e9), htbDefaultBurst(10e9)),
      cls('1:30', '1:1', 1_234_567, 99e6, 2, 1600, 2000, 3 * 1024),
    ];
    expect(expectedReadback(desired)).toEqual(parseClasses('v0', fixture('v0.class.txt')));
  });

  it('qdiscs: handle and default spelled as read, r2q 10 dropped', () => {
    const desired: Qdisc[] = [
      { kind: 'qdisc', id: 'qdisc/v0/root', dev: 'v0', parent: 'root', handle: '0001:', qdisc: 'htb', params: [['default', '0xA3'], ['r2q', '20']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:10', dev: 'v0', parent: '1:10', handle: '10:', qdisc: 'bfifo', params: [['limit', '30000']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:a3', dev: 'v0', parent: '1:A3', handle: 'a3:', qdisc: 'pfifo', params: [['limit', '100']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:20', dev: 'v0', parent: '1:20', handle: '20:', qdisc: 'pfifo', params: [['limit', '1000']] },
      { kind: 'qdisc', id: 'qdisc/v0/ingress', dev: 'v0', parent: 'ingress', handle: 'ffff:', qdisc: 'ingress', params: [] },
    ];
    expect(expectedReadback(desired)).toEqual(parseQdiscs('v0', fixture('v0.qdisc.json')));
    const r2q10: Qdisc = { ...desired[0]!, params: [['default', '20'], ['r2q', '10']] };
    expect((expectedReadback([r2q10])[0] as Qdisc).params).toEqual([['default', '20']]);
  });

  it('u32 filters: keys as the compiler writes them, one per match, read back packed', () => {
    const desired: Filter = {
      kind: 'filter',
      id: 'filter/v0/1:/5',
      dev: 'v0',
      parent: '1:',
      protocol: 'ip',
      prio: 5,
      nodes: [
        {
          keys: [
            { off: 20, val: 0x00160000, mask: 0xffff0000 }, // ip sport 22
            { off: 20, val: 0x00000050, mask: 0x0000ffff }, // ip dport 80
            { off: 16, val: 0xc0000205, mask: 0xffffff00 }, // ip dst 192.0.2.5/24
          ],
          flowid: '1:20',
        },
      ],
    };
    const live = parseFilters('v0', '1:', fixture('v0.filter-1_.json')).find((f) => f.prio === 5);
    expect(expectedReadback([desired])).toEqual([live]);
  });
});

describe('a hashed filter read back: node ids and the order tc lists them in', () => {
  // The reference: each node's id is its own or the lowest free one from 0x800 in its bucket
  // (in list order); root-table nodes first as they are, then by table, bucket and id.
  const reference = (nodes: U32Node[]) => {
    const used = new Map<string, Set<number>>();
    const withIds = nodes.map((n) => {
      if (n.ht === undefined) return n;
      const ids = used.get(n.ht) ?? used.set(n.ht, new Set()).get(n.ht)!;
      let id = n.node ?? 0x800;
      if (n.node === undefined) while (ids.has(id)) id++;
      ids.add(id);
      return { ...n, node: id };
    });
    const at = (n: U32Node) => (n.ht === undefined ? [-1, -1, -1] : [...n.ht.split(':').slice(0, 2).map((x) => parseInt(x, 16)), n.node!]);
    return withIds.map((n, i) => ({ n, i, k: at(n) })).sort((a, b) => a.k[0]! - b.k[0]! || a.k[1]! - b.k[1]! || a.k[2]! - b.k[2]! || a.i - b.i).map((x) => ({ ht: x.n.ht, node: x.n.node, flowid: x.n.flowid }));
  };
  it('matches a plain sort for nodes in any order, with and without ids of their own (random, seeded)', () => {
    let x = 17; // xorshift32
    const rand = (n: number) => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), Math.floor(((x >>> 0) / 2 ** 32) * n));
    for (let round = 0; round < 50; round++) {
      const nodes: U32Node[] = [];
      for (let i = 0, n = 1 + rand(60); i < n; i++) {
        const root = rand(8) === 0;
        const own = rand(3) === 0;
        nodes.push({
          keys: [{ off: 16, val: rand(1000), mask: 0xffffffff }],
          flowid: `1:${(i + 1).toString(16)}`,
          ...(root ? {} : { ht: `${(1 + rand(3)).toString(16)}:${rand(4).toString(16)}:` }),
          ...(!root && own ? { node: rand(3) === 0 ? 0x800 + rand(4) : 1 + rand(5) } : {}),
        });
      }
      const f: Filter = { kind: 'filter', id: 'filter/v0/1:/49', dev: 'v0', parent: '1:', protocol: 'ip', prio: 49, nodes };
      const got = (expectedReadback([f])[0] as Filter).nodes.map((n) => ({ ht: n.ht, node: n.node, flowid: n.flowid }));
      expect(got, `round ${round}`).toEqual(reference(nodes));
    }
  });
});
