import { describe, expect, it } from 'vitest';
import type { U32Node } from '../../src/model/index.js';
import { parseFilters, parseRootTable } from '../../src/state/index.js';
import { fixture } from './fixture.js';

const flt = (dev: string, parent: string, prio: number, protocol: 'ip' | 'ipv6' | 'all', nodes: U32Node[]) => ({
  kind: 'filter',
  id: `filter/${dev}/${parent}/${prio}`,
  dev,
  parent,
  protocol,
  prio,
  nodes,
});

const mirred = (dev: string) => ({ kind: 'mirred', dev }) as const;

// v0 parent 1: as built by record.sh. The second node was added with `match mark 0x5 0xff`:
// this kernel has no CONFIG_CLS_U32_MARK, so it accepted the filter and dropped the mark.
const v0Root = [
  flt('v0', '1:', 1, 'ip', [
    { keys: [{ off: 8, val: 0x00110000, mask: 0x00ff0000 }, { off: 20, val: 0x000013c4, mask: 0x0000ffff }], flowid: '1:10' },
    { keys: [{ off: 16, val: 0xc0000200, mask: 0xffffff00 }, { off: 0, val: 0x00b80000, mask: 0x00fc0000 }], flowid: '1:a3' },
    { keys: [{ off: 12, val: 0x0a010000, mask: 0xffff0000 }, { off: 20, val: 0x00160000, mask: 0xffff0000 }], flowid: '1:20' },
  ]),
  flt('v0', '1:', 2, 'ipv6', [
    { keys: [{ off: 40, val: 0x16, mask: 0xffff }], flowid: '1:20' },
    { keys: [{ off: 24, val: 0x20010db8, mask: 0xffffffff }], flowid: '1:30' },
  ]),
  flt('v0', '1:', 3, 'all', [{ keys: [{ off: 0, val: 0, mask: 0 }], flowid: '1:a3' }]),
  // `match ip sport 22 match ip dport 80 match ip dst 192.0.2.5/24`: one word at 20, the address masked
  flt('v0', '1:', 5, 'ip', [{ keys: [{ off: 20, val: 0x00160050, mask: 0xffffffff }, { off: 16, val: 0xc0000200, mask: 0xffffff00 }], flowid: '1:20' }]),
];

describe('parseFilters: u32 under an htb root', () => {
  it('groups nodes by prio into one Filter each, keys in the order given, all keys kept (JSON repeats "match")', () => {
    const root = parseRootTable(fixture('v0.get-1_-prio1.json'));
    expect(root).toBe(0x800);
    expect(parseFilters('v0', '1:', fixture('v0.filter-1_.json'), { rootTables: new Map([[1, root!]]) })).toEqual(v0Root);
  });

  it('reads the same from the text output', () => {
    expect(parseFilters('v0', '1:', fixture('v0.filter-1_.txt'), { rootTables: new Map([[1, 0x800]]) })).toEqual(v0Root);
  });

  it('flags a prio whose tables are listed under several parents when it cannot tell which is its own', () => {
    // 1:2 also has a u32 filter at prio 1: u32 keeps tables per qdisc and lists both under each parent.
    const [prio1] = parseFilters('v0', '1:', fixture('v0.filter-1_.json'));
    expect(prio1!.nodes).toEqual(v0Root[0]!.nodes); // the oldest table, a guess…
    expect(prio1!.unmodeled).toEqual([['u32-tables', 'tables 804: 800: at prio 1 are listed under several parents']]); // …flagged
  });

  it('reads a class parent’s filter by its own root table (1:2 prio 1 is table 804:)', () => {
    const root = parseRootTable(fixture('v0.get-1_2-prio1.json'));
    expect(root).toBe(0x804);
    expect(parseFilters('v0', '1:2', fixture('v0.filter-1_2.json'), { rootTables: new Map([[1, root!]]) })).toEqual([
      flt('v0', '1:2', 1, 'ip', [{ keys: [{ off: 8, val: 0x00060000, mask: 0x00ff0000 }], flowid: '1:a3' }]),
    ]);
    expect(parseFilters('v0', '1:1', fixture('v0.filter-1_1.json'))).toEqual([
      flt('v0', '1:1', 4, 'ip', [{ keys: [{ off: 8, val: 0x00060000, mask: 0x00ff0000 }], flowid: '1:20' }]),
    ]);
  });
});

describe('parseFilters: ingress and clsact hooks', () => {
  it('reads mirred egress redirect as the model action; a mirror stays unmodeled (v0 ingress)', () => {
    const expected = [
      flt('v0', 'ingress', 1, 'all', [{ keys: [{ off: 0, val: 0, mask: 0 }], action: mirred('ifb0') }]),
      { ...flt('v0', 'ingress', 2, 'ip', [{ keys: [{ off: 12, val: 0xc6336400, mask: 0xffffff00 }] }]), unmodeled: [['fh 801::800 action', 'mirred egress mirror dev ifb1 pipe']] },
    ];
    expect(parseFilters('v0', 'ingress', fixture('v0.filter-ingress.json'))).toEqual(expected);
    const fromText = parseFilters('v0', 'ingress', fixture('v0.filter-ingress.txt'));
    expect(fromText.map((f) => f.nodes)).toEqual(expected.map((f) => f.nodes));
    expect(fromText[1]!.unmodeled).toEqual([['fh 801::800 action', 'mirred (Egress Mirror to device ifb1) pipe']]);
  });

  it('separates clsact ingress and egress filters by their root tables (both hooks share u32 tables)', () => {
    const ingressRoot = parseRootTable(fixture('v1.get-ingress-prio1.json'))!;
    const egressRoot = parseRootTable(fixture('v1.get-egress-prio1.json'))!;
    expect([ingressRoot, egressRoot]).toEqual([0x800, 0x801]);
    expect(parseFilters('v1', 'ingress', fixture('v1.filter-ingress.json'), { rootTables: new Map([[1, ingressRoot]]) })).toEqual([
      flt('v1', 'ingress', 1, 'ip', [{ keys: [{ off: 12, val: 0x0a000000, mask: 0xff000000 }], action: mirred('ifb0') }]),
    ]);
    const egress = parseFilters('v1', 'egress', fixture('v1.filter-egress.json'), { rootTables: new Map([[1, egressRoot]]) });
    expect(egress).toEqual([
      flt('v1', 'egress', 1, 'ip', [{ keys: [{ off: 16, val: 0x0a000000, mask: 0xff000000 }], action: mirred('ifb1') }]),
      flt('v1', 'egress', 2, 'ipv6', [{ keys: [{ off: 24, val: 0x20010db8, mask: 0xffffffff }], action: mirred('ifb1') }]),
      {
        ...flt('v1', 'egress', 9, 'ip', []),
        unmodeled: [
          ['classifier', 'bpf'],
          ['raw', '{"handle":"0x1","flowid":"1:1","not_in_hw":true,"bytecode":{"length":1,"insns":[{"code":6,"jt":0,"jf":0,"k":65535}]}}'],
        ],
      },
    ]);
    const text = parseFilters('v1', 'egress', fixture('v1.filter-egress.txt'), { rootTables: new Map([[1, egressRoot]]) });
    expect(text.map((f) => f.nodes)).toEqual(egress.map((f) => f.nodes));
    expect(text[2]!.unmodeled).toEqual([
      ['classifier', 'bpf'],
      ['raw', "handle 0x1 flowid 1:1 not_in_hw bytecode '1,6 0 0 65535'"],
    ]);
  });
});

describe('parseFilters: what the model cannot say', () => {
  it('reads invalid JSON (u32 offset/eat): hash tables, links and hash keys as the model has them, offsets as unmodeled (v2)', () => {
    const json = fixture('v2.filter-1_.json');
    expect(() => JSON.parse(json)).toThrow(); // tc 6.1 really prints invalid JSON here
    const [f] = parseFilters('v2', '1:', json);
    expect(f!.tables).toEqual([{ handle: '2:', divisor: 256 }]);
    expect(f!.nodes).toEqual([
      { keys: [{ off: 8, val: 0x00060000, mask: 0x00ff0000 }], flowid: '1:1' },
      { keys: [{ off: 8, val: 0x00110000, mask: 0x00ff0000 }], hashkey: { mask: 0xff, at: 20 }, link: '2:' },
      { keys: [{ off: 20, val: 0x35, mask: 0xffff }], ht: '2:35:', node: 0x800, flowid: '1:35' },
    ]);
    expect(f!.unmodeled).toEqual([
      ['fh 800::801 offset', ''],
      ['fh 800::801 offset_mask', 'f00'],
      ['fh 800::801 offset_shift', '6'],
      ['fh 800::801 offset_off', '0'],
      ['fh 800::801 eat', ''],
    ]);
    const [t] = parseFilters('v2', '1:', fixture('v2.filter-1_.txt'));
    expect(t!.nodes).toEqual(f!.nodes);
    expect(t!.tables).toEqual(f!.tables);
    expect(t!.unmodeled!.map(([k]) => k)).toEqual(['fh 800::801 offset']);
  });

  it('returns an empty list for no filters, in JSON or text', () => {
    expect(parseFilters('v0', '1:', '[]')).toEqual([]);
    expect(parseFilters('v0', '1:', '')).toEqual([]);
  });
});

describe('parseFilters: the pattern, JSON.parse and the lenient reader read the same', () => {
  // `{,` is no JSON (so the lenient reader reads it all) and means nothing to the lenient reader.
  const lenientOnly = (text: string) => text.replace('{', '{,');
  // A key the patterns do not take and the entry reader ignores: JSON.parse reads it all.
  const jsonOnly = (text: string) => text.replace('[{', '[{"parent":"1:",');
  it.each(['v0.filter-1_.json', 'v0.filter-1_1.json', 'v0.filter-1_2.json', 'v0.filter-ingress.json', 'v1.filter-ingress.json', 'v1.filter-egress.json', 'lab-v0.filter-ingress.json'])(
    '%s',
    (f) => {
      expect(() => JSON.parse(lenientOnly(fixture(f)))).toThrow();
      expect(parseFilters('v0', '1:', fixture(f))).toEqual(parseFilters('v0', '1:', lenientOnly(fixture(f))));
      expect(parseFilters('v0', '1:', fixture(f))).toEqual(parseFilters('v0', '1:', jsonOnly(fixture(f))));
    },
  );
  it('a large hashed tree (every node shape the compiler makes)', () => {
    const node = (i: number) =>
      `{"protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"60c:${(i % 256).toString(16)}:${(0x800 + (i >> 8)).toString(16)}","order":${0x800 + (i >> 8)},"key_ht":"60c","bkt":"${(i % 256).toString(16)}","flowid":"1:${(i + 16).toString(16)}","not_in_hw":true,"match":{"value":"${(0x400 + i).toString(16)}","mask":"ffff","offmask":"","off":20}` +
      (i % 3 ? `,"match":{"value":"${i}","mask":"ff","offmask":"","off":8}}}` : '}}');
    const text = `[{"protocol":"ip","pref":1,"kind":"u32","chain":0},{"protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"60c:","ht_divisor":256}},${Array.from({ length: 600 }, (_, i) => node(i)).join(',')},{"protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"800:","ht_divisor":1}},{"protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"800::800","order":2048,"key_ht":"800","bkt":"0","link":"60c:","not_in_hw":true,"match":{"value":"5000000","mask":"f000000","offmask":"","off":0},"match":{"value":"0","mask":"1fff","offmask":"","off":4},"hash_mask":"ff","hash_off":20}}]`;
    const [f] = parseFilters('v0', '1:', text);
    expect(f!.nodes).toHaveLength(601);
    expect(parseFilters('v0', '1:', text)).toEqual(parseFilters('v0', '1:', lenientOnly(text)));
    expect(parseFilters('v0', '1:', text)).toEqual(parseFilters('v0', '1:', jsonOnly(text)));
  });
});
