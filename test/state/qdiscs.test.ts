import { describe, expect, it } from 'vitest';
import { parseQdiscs, unmodeledOf } from '../../src/state/index.js';
import { assumedLive, makePlan, scopeFor } from '../../src/plan/index.js';
import { compileSource } from '../compile/pipeline.js';
import { fixture } from './fixture.js';

describe('parseQdiscs', () => {
  it('reads an htb root with default and r2q, fifo leaves and an ingress qdisc (v0)', () => {
    expect(parseQdiscs('v0', fixture('v0.qdisc.json'))).toEqual([
      { kind: 'qdisc', id: 'qdisc/v0/root', dev: 'v0', parent: 'root', handle: '1:', qdisc: 'htb', params: [['default', 'a3'], ['r2q', '20']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:10', dev: 'v0', parent: '1:10', handle: '10:', qdisc: 'bfifo', params: [['limit', '30000']] },
      { kind: 'qdisc', id: 'qdisc/v0/1:a3', dev: 'v0', parent: '1:a3', handle: 'a3:', qdisc: 'pfifo', params: [['limit', '100']] },
      // no limit given: pfifo takes the device's txqueuelen
      { kind: 'qdisc', id: 'qdisc/v0/1:20', dev: 'v0', parent: '1:20', handle: '20:', qdisc: 'pfifo', params: [['limit', '1000']] },
      { kind: 'qdisc', id: 'qdisc/v0/ingress', dev: 'v0', parent: 'ingress', handle: 'ffff:', qdisc: 'ingress', params: [] },
    ]);
  });

  it('reads clsact as the ingress hook and leaves out the default root qdisc (v1: noqueue 0:)', () => {
    expect(parseQdiscs('v1', fixture('v1.qdisc.json'))).toEqual([
      { kind: 'qdisc', id: 'qdisc/v1/ingress', dev: 'v1', parent: 'ingress', handle: 'ffff:', qdisc: 'clsact', params: [] },
    ]);
  });

  it('drops r2q when it is the default 10 and reads default 0', () => {
    const json = '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":10,"default":"0","direct_packets_stat":1,"ver":"3.17","direct_qlen":50}}]';
    expect(parseQdiscs('v0', json)[0]!.params).toEqual([['default', '0']]);
  });

  it('keeps a qdisc kind the model lacks and its size table, marked unmodeled (ifb1: tbf with stab)', () => {
    expect(parseQdiscs('ifb1', fixture('ifb1.qdisc.json'))).toEqual([
      {
        kind: 'qdisc',
        id: 'qdisc/ifb1/root',
        dev: 'ifb1',
        parent: 'root',
        handle: '5:',
        qdisc: 'tbf',
        params: [
          ['rate', '125000'],
          ['burst', '10Kb/1'],
          ['mpu', '0'],
          ['lat', '50000'],
          ['linklayer', 'ethernet'],
        ],
        unmodeled: [
          ['qdisc', 'tbf'],
          ['stab', 'linklayer atm overhead 44 mtu 2048 tsize 512'],
        ],
      },
    ]);
  });
});

describe('parseQdiscs: the pattern and the JSON reading read the same', () => {
  // A key the pattern does not take and the JSON reading ignores.
  const jsonOnly = (text: string) => text.replace('[{', '[{"x":1,');
  it('an htb root with fifo leaves, as tc lists a tree qospolicy built', () => {
    const leaf = (i: number) => `{"kind":"${i % 2 ? 'pfifo' : 'bfifo'}","handle":"${(i + 16).toString(16)}:","parent":"1:${(i + 16).toString(16)}","options":{"limit":${1000 + i}}}`;
    for (const r2q of [10, 20]) {
      const text = `[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":${r2q},"default":"0x00a3","direct_packets_stat":1,"ver":"3.17","direct_qlen":1000}},${Array.from({ length: 50 }, (_, i) => leaf(i)).join(',')}]`;
      const q = parseQdiscs('v0', text);
      expect(q).toHaveLength(51);
      expect(q[0]!.params).toEqual(r2q === 10 ? [['default', 'a3']] : [['default', 'a3'], ['r2q', '20']]);
      expect(q).toEqual(parseQdiscs('v0', jsonOnly(text)));
    }
  });
  it('the recorded outputs', () => {
    for (const f of ['v0.qdisc.json', 'v1.qdisc.json', 'ifb1.qdisc.json', 'lab-v2.qdisc.json']) expect(parseQdiscs('v0', fixture(f)), f).toEqual(parseQdiscs('v0', jsonOnly(fixture(f))));
  });
});

describe('fq_codel: the live leaf equals the compiled one (state/codel.ts)', () => {
  // tc -j -d qdisc show of an fq_codel leaf on iproute2 6.1 (times in µs, as the kernel
  // rounds them); the compiler's leaf of an 800 kbit class with the fq_codel feature.
  const policy = 'target { features htb, u32, fq_codel, bfifo }\ninterface v0 {\n  egress rate 800kbit {\n    class a rate 400kbit ceil 800kbit default\n  }\n}\n';
  const liveJson = (options: Record<string, unknown>) =>
    JSON.stringify([{ kind: 'fq_codel', handle: '4f07:', parent: '1:4f07', options: { limit: 10240, flows: 1024, quantum: 1514, target: 22999, interval: 117999, memory_limit: 33554432, ecn: true, drop_batch: 64, ...options } }]);
  const planWith = (options: Record<string, unknown>) => {
    const desired = compileSource('a.pol', policy).state!;
    const leaf = desired.objects.find((o) => o.kind === 'qdisc' && o.qdisc === 'fq_codel')!;
    expect(leaf.kind === 'qdisc' && leaf.params).toEqual([['quantum', '1514'], ['target', '23ms'], ['interval', '118ms']]);
    const live = [...assumedLive(desired).filter((o) => o.id !== leaf.id), ...parseQdiscs('v0', liveJson(options))];
    return makePlan(desired, live, scopeFor(desired));
  };

  it('reads the options off their defaults: quantum always, times to a tenth of a millisecond, noecn', () => {
    expect(parseQdiscs('v0', liveJson({}))[0]).toMatchObject({ qdisc: 'fq_codel', params: [['quantum', '1514'], ['target', '23ms'], ['interval', '118ms']] });
    expect(parseQdiscs('v0', liveJson({ target: 4999, interval: 99999, limit: 1000, ecn: false }))[0]).toMatchObject({ params: [['limit', '1000'], ['quantum', '1514'], ['noecn', '']] });
    expect(unmodeledOf(parseQdiscs('v0', liveJson({}))[0]!)).toEqual([]);
  });

  it('a live leaf as applied plans no change (it was "settings qospolicy does not model": apply never converged)', () => {
    expect(planWith({}).changes).toEqual([]);
  });

  it('a live leaf with another target or quantum is changed in place (tc qdisc change: fq_codel supports it)', () => {
    expect(planWith({ target: 4999 }).changes.map((c) => [c.action, c.address])).toEqual([['update', 'qdisc v0 parent 1:4f07']]);
    expect(planWith({ quantum: 1492 }).changes.map((c) => [c.action, c.address])).toEqual([['update', 'qdisc v0 parent 1:4f07']]);
    expect(planWith({ quantum: 1492 }).steps.map((st) => st.argv.join(' '))).toEqual(['tc qdisc change dev v0 parent 1:4f07 handle 4f07: fq_codel quantum 1514 target 23ms interval 118ms']);
  });
});
