import { describe, expect, it } from 'vitest';
import { classId, filterId, qdiscId, type Filter, type HtbClass, type KernelObject, type Qdisc } from '../../src/model/index.js';
import { expectedReadback, readDevice } from '../../src/state/index.js';
import { htbDefaultBurst } from '../../src/kernel/readback.js';
import { requireKernelTools, withNetns, type Netns } from '../support/netns.js';

const tc = (ns: Netns, line: string) => ns.run(['tc', ...line.split(' ')]);

const qdisc = (dev: string, parent: string, handle: string, kind: Qdisc['qdisc'], params: Array<[string, string]>): Qdisc => ({
  kind: 'qdisc',
  id: qdiscId(dev, parent),
  dev,
  parent,
  handle,
  qdisc: kind,
  params,
});
const cls = (classid: string, parent: string, rate: number, ceil: number, prio: number, quantum: number): HtbClass => ({
  kind: 'class',
  id: classId('v0', classid),
  dev: 'v0',
  classid,
  parent,
  rate,
  ceil,
  prio,
  quantum,
  burst: htbDefaultBurst(rate),
  cburst: htbDefaultBurst(ceil),
});
const filter = (dev: string, parent: string, prio: number, protocol: Filter['protocol'], nodes: Filter['nodes']): Filter => ({
  kind: 'filter',
  id: filterId(dev, parent, prio),
  dev,
  parent,
  protocol,
  prio,
  nodes,
});

describe.skipIf(!requireKernelTools())('readDevice (kernel)', () => {
  it('reads back an htb tree, class filters sharing a prio with the root, and an ingress redirect', () =>
    withNetns(async (ns) => {
      await ns.veth('v0', 'v1');
      await ns.run(['ip', 'link', 'add', 'ifb0', 'type', 'ifb']);
      for (const line of [
        'qdisc add dev v0 root handle 1: htb default 20',
        'class add dev v0 parent 1: classid 1:1 htb rate 100mbit ceil 100mbit quantum 20000',
        'class add dev v0 parent 1:1 classid 1:10 htb rate 2mbit ceil 5mbit prio 0 quantum 1514',
        'class add dev v0 parent 1:1 classid 1:20 htb rate 10mbit ceil 95mbit prio 3 quantum 3000',
        'qdisc add dev v0 parent 1:10 handle 10: pfifo limit 50',
        'qdisc add dev v0 parent 1:20 handle 20: bfifo limit 60000',
        'filter add dev v0 parent 1: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 5060 0xffff flowid 1:10',
        'filter add dev v0 parent 1: protocol ipv6 prio 2 u32 match ip6 dport 22 0xffff flowid 1:20',
        // same prio on a class: u32 lists both tables under both parents; readDevice must tell them apart
        'filter add dev v0 parent 1:1 protocol ip prio 1 u32 match ip protocol 6 0xff flowid 1:20',
        'qdisc add dev v0 handle ffff: ingress',
        'filter add dev v0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev ifb0',
      ])
        await tc(ns, line);

      const desired: KernelObject[] = [
        qdisc('v0', 'root', '1:', 'htb', [['default', '20']]),
        qdisc('v0', 'ingress', 'ffff:', 'ingress', []),
        cls('1:1', '1:', 100e6, 100e6, 0, 20000),
        cls('1:10', '1:1', 2e6, 5e6, 0, 1514),
        cls('1:20', '1:1', 10e6, 95e6, 3, 3000),
        qdisc('v0', '1:10', '10:', 'pfifo', [['limit', '50']]),
        qdisc('v0', '1:20', '20:', 'bfifo', [['limit', '60000']]),
        filter('v0', '1:', 1, 'ip', [
          { keys: [{ off: 8, val: 0x00110000, mask: 0x00ff0000 }, { off: 20, val: 5060, mask: 0xffff }], flowid: '1:10' },
        ]),
        filter('v0', '1:', 2, 'ipv6', [{ keys: [{ off: 40, val: 22, mask: 0xffff }], flowid: '1:20' }]),
        filter('v0', '1:1', 1, 'ip', [{ keys: [{ off: 8, val: 0x00060000, mask: 0x00ff0000 }], flowid: '1:20' }]),
        filter('v0', 'ingress', 1, 'all', [{ keys: [{ off: 0, val: 0, mask: 0 }], action: { kind: 'mirred', dev: 'ifb0' } }]),
      ];
      expect(await readDevice('v0', { netns: ns.name })).toEqual(expectedReadback(desired));
    }));

  it('reads clsact ingress and egress filters at the same prio apart, and keeps a foreign classifier', () =>
    withNetns(async (ns) => {
      await ns.veth('v0', 'v1');
      await ns.run(['ip', 'link', 'add', 'ifb0', 'type', 'ifb']);
      await ns.run(['ip', 'link', 'add', 'ifb1', 'type', 'ifb']);
      for (const line of [
        'qdisc add dev v1 clsact',
        'filter add dev v1 ingress protocol ip prio 1 u32 match ip src 10.0.0.0/8 action mirred egress redirect dev ifb0',
        'filter add dev v1 egress protocol ip prio 1 u32 match ip dst 10.0.0.0/8 action mirred egress redirect dev ifb1',
      ])
        await tc(ns, line);
      await ns.run(['tc', 'filter', 'add', 'dev', 'v1', 'egress', 'protocol', 'ip', 'prio', '9', 'bpf', 'bytecode', '1,6 0 0 65535', 'flowid', '1:1']);

      const live = await readDevice('v1', { netns: ns.name });
      expect(live.slice(0, 3)).toEqual([
        qdisc('v1', 'ingress', 'ffff:', 'clsact', []),
        filter('v1', 'ingress', 1, 'ip', [{ keys: [{ off: 12, val: 0x0a000000, mask: 0xff000000 }], action: { kind: 'mirred', dev: 'ifb0' } }]),
        filter('v1', 'egress', 1, 'ip', [{ keys: [{ off: 16, val: 0x0a000000, mask: 0xff000000 }], action: { kind: 'mirred', dev: 'ifb1' } }]),
      ]);
      expect(live[3]).toMatchObject({ kind: 'filter', id: 'filter/v1/egress/9', nodes: [], unmodeled: [['classifier', 'bpf'], ['raw', expect.stringContaining('"k":65535')]] });
      expect(live).toHaveLength(4);
    }));

  it('reads an untouched device as nothing (the kernel default qdisc is nobody’s)', () =>
    withNetns(async (ns) => {
      await ns.veth('v0', 'v1');
      expect(await readDevice('v0', { netns: ns.name })).toEqual([]);
    }));

  it('fails clearly for a device that does not exist', () =>
    withNetns(async (ns) => {
      await expect(readDevice('nope0', { netns: ns.name })).rejects.toThrow(/tc .*nope0.* failed/);
    }));
});
