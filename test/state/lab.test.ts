// Recordings from the kernel lab (test/fixtures/tc/lab.sh under Debian's 6.1 kernel):
// what this host's kernel cannot show — u32 marks, fw, basic/ematch, skbedit, gact, taprio.
import { describe, expect, it } from 'vitest';
import { parseFilters, parseQdiscs } from '../../src/state/index.js';
import { fixture } from './fixture.js';

const u32 = (prio: number, nodes: unknown[], unmodeled?: Array<[string, string]>) => ({
  kind: 'filter',
  id: `filter/v0/1:/${prio}`,
  dev: 'v0',
  parent: '1:',
  protocol: 'ip',
  prio,
  nodes,
  ...(unmodeled ? { unmodeled } : {}),
});

const expected = [
  u32(1, [
    { keys: [{ off: 16, val: 0xc0000200, mask: 0xffffff00 }], mark: { val: 5, mask: 0xff }, flowid: '1:10' },
    { keys: [], mark: { val: 0x10, mask: 0xffffffff }, flowid: '1:20' },
  ]),
];

describe('kernel lab recordings (Debian 6.1 kernel, iproute2 6.1)', () => {
  const json = fixture('lab-v0.filter-1_.json');
  const text = fixture('lab-v0.filter-1_.txt');

  it('is output that JSON.parse rejects (fw and basic print text inside the JSON)', () => {
    expect(() => JSON.parse(json)).toThrow();
  });

  const fromJson = parseFilters('v0', '1:', json);
  const fromText = parseFilters('v0', '1:', text);

  it('reads u32 marks (fwmark_value/fwmark_mask; text: "mark 0x0005 0x00ff (success 0)")', () => {
    expect(fromJson.slice(0, 1)).toEqual(expected);
    expect(fromText.slice(0, 1)).toEqual(expected);
  });

  it('keeps fw and basic filters as unmodeled classifiers with their text', () => {
    expect(fromJson.slice(1, 4)).toEqual([
      u32(2, [], [['classifier', 'fw'], ['raw', '{handle 0x6 classid 1:10}']]),
      u32(3, [], [['classifier', 'basic'], ['raw', '{"handle":"1","flowid":"1:10",meta(priority eq 6)}']]),
      u32(4, [], [['classifier', 'basic'], ['raw', '{"handle":"1","flowid":"1:20",cmp(u8 at 9 layer 1 eq 17)\n  AND meta(nf_mark gt 3)}']]),
    ]);
    expect(fromText.slice(1, 4).map((f) => f.unmodeled)).toEqual([
      [['classifier', 'fw'], ['raw', 'handle 0x6 classid 1:10']],
      [['classifier', 'basic'], ['raw', 'handle 0x1 flowid 1:10\nmeta(priority eq 6)']],
      [['classifier', 'basic'], ['raw', 'handle 0x1 flowid 1:20\ncmp(u8 at 9 layer 1 eq 17)\nAND meta(nf_mark gt 3)']],
    ]);
  });

  it('reads skbedit priority as the model action (JSON) and keeps gact drop as unmodeled', () => {
    expect(fromJson.slice(4)).toEqual([
      u32(5, [{ keys: [{ off: 20, val: 80, mask: 0xffff }], action: { kind: 'skbedit', priority: '1:10' } }]),
      u32(6, [{ keys: [{ off: 20, val: 81, mask: 0xffff }] }], [['fh 802::800 action', '{"kind":"gact","control_action":{"type":"drop"},"prob":{"random_type":"none","control_action":{"type":"pass"},"val":0}}']]),
    ]);
    expect(fromText.slice(4).map((f) => f.nodes.map((n) => n.keys))).toEqual(fromJson.slice(4).map((f) => f.nodes.map((n) => n.keys)));
    expect(fromText[5]!.unmodeled).toEqual([['fh 802::800 action', 'gact action drop random type none pass val 0']]);
  });

  it('reads the ingress mirred redirect the same as on this host', () => {
    expect(parseFilters('v0', 'ingress', fixture('lab-v0.filter-ingress.json'))).toEqual([
      { kind: 'filter', id: 'filter/v0/ingress/1', dev: 'v0', parent: 'ingress', protocol: 'all', prio: 1, nodes: [{ keys: [{ off: 0, val: 0, mask: 0 }], action: { kind: 'mirred', dev: 'ifb0' } }] },
    ]);
  });

  it('reads taprio options as strings and leaves out its default pfifo children (handle 0:)', () => {
    expect(parseQdiscs('v2', fixture('lab-v2.qdisc.json'))).toEqual([
      {
        kind: 'qdisc',
        id: 'qdisc/v2/root',
        dev: 'v2',
        parent: 'root',
        handle: '100:',
        qdisc: 'taprio',
        params: [
          ['tc', '3'],
          ['map', '2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2'],
          ['queues', '[{"offset":0,"count":1},{"offset":1,"count":1},{"offset":2,"count":2}]'],
          ['clockid', 'TAI'],
          ['base_time', '1000000000'],
          ['cycle_time', '1000000'],
          ['cycle_time_extension', '0'],
          ['schedule', '[{"index":0,"cmd":"S","gatemask":"0x1","interval":300000},{"index":1,"cmd":"S","gatemask":"0x2","interval":300000},{"index":2,"cmd":"S","gatemask":"0x4","interval":400000}]'],
        ],
      },
    ]);
  });
});

describe('taprio readback (expectedReadback) against the lab recording', () => {
  it('the arguments of lab.sh read back exactly as tc showed them', async () => {
    const { expectedReadback } = await import('../../src/state/index.js');
    const desired = {
      kind: 'qdisc' as const,
      id: 'qdisc/v2/root',
      dev: 'v2',
      parent: 'root',
      handle: '100:',
      qdisc: 'taprio' as const,
      // lab.sh: taprio num_tc 3 map 2 2 1 0 … queues 1@0 1@1 2@2 base-time 1000000000 sched-entry … clockid CLOCK_TAI
      params: [
        ['num_tc', '3'],
        ['map', '2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2'],
        ['queues', '1@0 1@1 2@2'],
        ['base-time', '1000000000'],
        ['sched-entry', 'S 01 300000'],
        ['sched-entry', 'S 02 300000'],
        ['sched-entry', 'S 04 400000'],
        ['clockid', 'CLOCK_TAI'],
      ] as Array<[string, string]>,
    };
    expect(expectedReadback([desired])).toEqual(parseQdiscs('v2', fixture('lab-v2.qdisc.json')));
  });
});
