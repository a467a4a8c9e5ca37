// Circuits on the kernel: 5 000 subscribers from a generated ShapedDevices.csv, classified
// by the two-level u32 hash tables (last address byte, then the one before; IPv6 alike on
// the /64). A sample of circuits is sent datagrams — a count no other circuit gets — to
// their IPv4 host and into their IPv6 /64; each circuit's class counter must show exactly
// its own, and no other circuit's class anything.
import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { renderBatch } from '../../src/render/batch.js';
import { parseClassCounters } from '../../src/state/index.js';
import type { HtbClass } from '../../src/model/types.js';
import { requireKernelTools, withNetns, type Netns } from '../support/netns.js';
import { cli } from '../apply/helpers.js';
import type { Plan } from '../../src/plan/index.js';
import { tempDir } from '../support/tmp.js';
// @ts-expect-error: the bench's generator is plain JavaScript
import { circuitAddress, writeIsp } from '../../bench/circuits.js';

const N = 5000;
/** Sampled circuits: spread over the list, both ends, neighbours of one another. */
const SAMPLE = [0, 1, 2, 255, 256, 257, 1023, 1024, 2047, 2500, 3333, 4094, 4095, 4096, 4998, 4999];

async function send(ns: Netns, family: 4 | 6, dests: Array<{ addr: string; count: number }>) {
  const js = `const s=require('dgram').createSocket('udp${family}');const d=${JSON.stringify(dests)};let n=d.reduce((a,x)=>a+x.count,0);for(const x of d)for(let k=0;k<x.count;k++)s.send(Buffer.alloc(64),9,x.addr,(e)=>{if(e)throw e;if(--n===0)s.close()})`;
  await ns.run([process.execPath, '-e', js]);
}

/** Applies the compiled policy with tc -batch on v0 in ns, routes the circuits' addresses out of it; classid by class name. */
async function boot(ns: Netns, pol: string): Promise<{ idOf: Map<string, string>; classes: HtbClass[] }> {
  const r = compileSource(pol, readFileSync(pol, 'utf8'));
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const file = `${pol}.tc`;
  writeFileSync(file, renderBatch(r.state, 'test').tc!);
  await wire(ns);
  await ns.run(['tc', '-batch', file], { timeout: 300_000 });
  const classes = r.state.objects.filter((o): o is HtbClass => o.kind === 'class');
  return { classes, idOf: new Map(classes.map((c) => [c.origin!.path.split(' › ').at(-1)!.replace(/ \(circuit .*/, ''), c.classid])) };
}

/** The veth and the routes that send every circuit address out of v0 (static neighbours: no ARP/ND). */
async function wire(ns: Netns): Promise<void> {
  await ns.veth('v0', 'v0-p');
  await ns.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
  await ns.run(['ip', '-6', 'addr', 'add', 'fd00:9::1/64', 'dev', 'v0', 'nodad']);
  await ns.run(['ip', 'neigh', 'add', '10.9.0.99', 'lladdr', '02:00:00:00:00:99', 'dev', 'v0']);
  await ns.run(['ip', '-6', 'neigh', 'add', 'fd00:9::99', 'lladdr', '02:00:00:00:00:99', 'dev', 'v0']);
  await ns.run(['ip', 'route', 'add', '100.64.0.0/10', 'via', '10.9.0.99']);
  await ns.run(['ip', '-6', 'route', 'add', '2001:db8::/32', 'via', 'fd00:9::99']);
}

const counts = async (ns: Netns) => new Map([...parseClassCounters(String((await ns.run(['tc', '-s', 'class', 'show', 'dev', 'v0'])).stdout))].map(([id, c]) => [id, c.packets]));

describe.skipIf(!requireKernelTools())('circuits on the kernel', () => {
  it('the rest of the language in the same tree: a class before the circuits takes its match first, unlisted addresses go to the default', () =>
    withNetns(async (ns) => {
      const dir = tempDir('qp-circuits-lang-');
      writeIsp(dir, 40, { down: 'v0', sites: false, leaf: 'bfifo' });
      const pol = join(dir, 'lang.pol');
      writeFileSync(pol, 'interface v0 {\n  egress rate 10gbit {\n    leaf bfifo\n    class voice rate 1mbit ceil 10mbit prio 0 { match udp dport 5060 }\n    circuits "subs.csv" down\n    class rest rate 10mbit ceil 1gbit default\n  }\n}\n');
      const { idOf } = await boot(ns, pol);
      const before = await counts(ns);
      await send(ns, 4, [{ addr: circuitAddress(7).v4, count: 5 }]);
      const js = `const s=require('dgram').createSocket('udp4');let n=3;for(let k=0;k<3;k++)s.send(Buffer.alloc(64),5060,'${circuitAddress(7).v4}',()=>{if(--n===0)s.close()})`;
      await ns.run([process.execPath, '-e', js]);
      await send(ns, 4, [{ addr: '100.100.0.1', count: 4 }]);
      const after = await counts(ns);
      const delta = (name: string) => after.get(idOf.get(name)!)! - (before.get(idOf.get(name)!) ?? 0);
      expect({ circuit: delta('c1007'), voice: delta('voice') }).toEqual({ circuit: 5, voice: 3 });
      // The default also sees the stack's own IPv6 packets (neighbour discovery, MLD).
      expect(delta('rest')).toBeGreaterThanOrEqual(4);
    }), 120_000);

  it(`${N} circuits: a sample's IPv4 and IPv6 datagrams each land in their own circuit's class only`, () =>
    withNetns(async (ns) => {
      const dir = tempDir('qp-circuits-');
      mkdirSync(dir, { recursive: true });
      const { idOf, classes } = await boot(ns, writeIsp(dir, N, { down: 'v0', sites: false, leaf: 'bfifo' }));
      // Hashed in two levels: tables linked from buckets of other tables, for both families.
      const filters = String((await ns.run(['tc', 'filter', 'show', 'dev', 'v0'])).stdout);
      expect(filters).toMatch(/fh [0-9a-f]+:[0-9a-f]+:[0-9a-f]+ .*link [0-9a-f]+:/);
      const leaves = classes.filter((c) => c.classid !== '1:1');

      for (const family of [4, 6] as const) {
        const before = await counts(ns);
        await send(ns, family, SAMPLE.map((i, k) => ({ addr: family === 4 ? circuitAddress(i).v4 : circuitAddress(i).v6host, count: k + 1 })));
        const after = await counts(ns);
        const got = Object.fromEntries(SAMPLE.map((i) => [`c${1000 + i}`, after.get(idOf.get(`c${1000 + i}`)!)! - (before.get(idOf.get(`c${1000 + i}`)!) ?? 0)]));
        expect(got, `IPv${family}`).toEqual(Object.fromEntries(SAMPLE.map((i, k) => [`c${1000 + i}`, k + 1])));
        const elsewhere = leaves.filter((c) => !SAMPLE.some((i) => idOf.get(`c${1000 + i}`) === c.classid) && (after.get(c.classid) ?? 0) !== (before.get(c.classid) ?? 0) && !c.origin!.path.endsWith('rest'));
        expect(elsewhere.map((c) => c.origin!.path), `IPv${family}: other circuits' classes`).toEqual([]);
      }
    }), 600_000);

  it(`${N} circuits applied, then one added and one removed by apply: only their class, leaf and bucket nodes change; every other node stays and every other class keeps its counters and its traffic`, () =>
    withNetns(async (ns) => {
      const dir = tempDir('qp-circuits-change-');
      const pol = writeIsp(dir, N, { down: 'v0', sites: false, leaf: 'bfifo' });
      await wire(ns);
      const qp = cli(ns);
      const apply = async () => {
        const r = await qp.run(['apply', pol, '--yes']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      };
      const planned = async () => JSON.parse((await qp.run(['plan', pol, '--format', 'json'])).stdout) as Plan;
      const nodeLines = async () => new Set(String((await ns.run(['tc', 'filter', 'show', 'dev', 'v0'])).stdout).split('\n').filter((l) => / fh [0-9a-f]+:[0-9a-f]*:[0-9a-f]+ /.test(l)));
      await apply();
      const idsOf = () => new Map((compileSource(pol, readFileSync(pol, 'utf8')).state!.objects.filter((o) => o.kind === 'class') as HtbClass[]).map((c) => [c.origin!.path.split(' › ').at(-1)!.replace(/ \(circuit .*/, ''), c.classid]));
      // Circuits only: the root and default classes also count the stack's own IPv6 packets (ND, MLD).
      const ids = new Map([...idsOf()].filter(([name]) => /^c\d+$/.test(name)));
      const rest = idsOf().get('rest')!;
      const sample = SAMPLE.filter((i) => i < N && i !== 2500);
      const sendSample = () => Promise.all([4, 6].map((f) => send(ns, f as 4 | 6, sample.map((i, k) => ({ addr: f === 4 ? circuitAddress(i).v4 : circuitAddress(i).v6host, count: k + 1 })))));
      await sendSample();
      const before = await counts(ns);
      const nodesBefore = await nodeLines();

      // One circuit added: exactly its class, its leaf and a node in a bucket of each family's run.
      appendFileSync(join(dir, 'subs.csv'), '99999,New one,dnew,router,,,100.127.0.5,2001:db8:ff:1::/64,1,1,100,20,\n');
      const add = await planned();
      expect(add.changes.map((c) => `${c.action} ${c.kind}${c.kind === 'node' ? ` ${(c.after as { protocol: string }).protocol}` : ''}`).sort()).toEqual(['create class', 'create node ip', 'create node ipv6', 'create qdisc']);
      await apply();
      expect((await qp.run(['plan', pol, '--detailed-exitcode'])).code).toBe(0);
      const afterAdd = await counts(ns);
      // No class was made again: every one keeps its counters.
      for (const [name, id] of ids) expect(afterAdd.get(id), name).toBe(before.get(id));
      // Every node the kernel had is still there, the same; two new ones.
      const nodesAdded = await nodeLines();
      expect([...nodesBefore].filter((l) => !nodesAdded.has(l))).toEqual([]);
      expect([...nodesAdded].filter((l) => !nodesBefore.has(l)), `${nodesBefore.size} → ${nodesAdded.size}`).toHaveLength(2);

      // Traffic: the new circuit's addresses land in its class, the sample's in theirs, nowhere else.
      const newId = idsOf().get('c99999')!;
      await send(ns, 4, [{ addr: '100.127.0.5', count: 5 }]);
      await send(ns, 6, [{ addr: '2001:db8:ff:1::2', count: 6 }]);
      await sendSample();
      const afterTraffic = await counts(ns);
      expect(afterTraffic.get(newId)).toBe(11);
      for (const [name, id] of ids) {
        const k = sample.findIndex((i) => `c${1000 + i}` === name);
        expect(afterTraffic.get(id)! - afterAdd.get(id)!, name).toBe(k < 0 ? 0 : 2 * (k + 1));
      }

      // One circuit removed: exactly its nodes, leaf and class go; its address falls to the default class.
      const gone = sample[3]!;
      writeFileSync(join(dir, 'subs.csv'), readFileSync(join(dir, 'subs.csv'), 'utf8').split('\n').filter((l) => !l.startsWith(`${1000 + gone},`)).join('\n'));
      const del = await planned();
      expect(del.changes.map((c) => `${c.action} ${c.kind}${c.kind === 'node' ? ` ${(c.before as { protocol: string }).protocol}` : ''}${c.implicit ? ' (implicit)' : ''}`).sort()).toEqual(['delete class', 'delete node ip', 'delete node ipv6', 'delete qdisc (implicit)']);
      await apply();
      expect((await qp.run(['plan', pol, '--detailed-exitcode'])).code).toBe(0);
      const nodesRemoved = await nodeLines();
      expect(nodesAdded.size - nodesRemoved.size).toBe(2);
      expect([...nodesRemoved].filter((l) => !nodesAdded.has(l))).toEqual([]);
      const afterDel = await counts(ns);
      for (const [name, id] of ids) if (name !== `c${1000 + gone}`) expect(afterDel.get(id), name).toBe(afterTraffic.get(id));
      await sendSample();
      const last = await counts(ns);
      expect(last.get(rest)! - afterDel.get(rest)!).toBeGreaterThanOrEqual(2 * (3 + 1));
      for (const [name, id] of [...ids, ['c99999', newId] as const]) {
        const k = sample.findIndex((i) => `c${1000 + i}` === name);
        if (name !== `c${1000 + gone}`) expect(last.get(id)! - afterDel.get(id)!, name).toBe(k < 0 ? 0 : 2 * (k + 1));
      }
    }), 600_000);

  it('under sites (1 200 circuits in 3 APs of a Core site): every level is hashed, and a sample lands in its own circuit\'s class only', () =>
    withNetns(async (ns) => {
      const dir = tempDir('qp-circuits-sites-');
      mkdirSync(dir, { recursive: true });
      const n = 1200;
      const { idOf, classes } = await boot(ns, writeIsp(dir, n, { down: 'v0', sites: true, leaf: 'bfifo' }));
      // The Core site (one class above all 1 200 addresses) and each AP (500) are hashed
      // runs of their own: no filter walks more than a few linear nodes before a table.
      const r = compileSource(join(dir, 'isp.pol'), readFileSync(join(dir, 'isp.pol'), 'utf8'));
      const linear = r.state!.objects.flatMap((o) => (o.kind === 'filter' ? [o.nodes.filter((x) => !x.ht).length] : []));
      expect(Math.max(...linear)).toBeLessThan(8);
      const sample = [0, 1, 255, 256, 499, 500, 501, 999, 1000, 1199];
      const before = await counts(ns);
      await send(ns, 4, sample.map((i, k) => ({ addr: circuitAddress(i).v4, count: k + 1 })));
      const after = await counts(ns);
      const delta = (i: number) => after.get(idOf.get(`c${1000 + i}`)!)! - (before.get(idOf.get(`c${1000 + i}`)!) ?? 0);
      expect(Object.fromEntries(sample.map((i) => [i, delta(i)]))).toEqual(Object.fromEntries(sample.map((i, k) => [i, k + 1])));
      const leaves = classes.filter((c) => c.classid !== '1:1' && /› c\d+/.test(c.origin!.path));
      const elsewhere = leaves.filter((c) => !sample.some((i) => idOf.get(`c${1000 + i}`) === c.classid) && (after.get(c.classid) ?? 0) !== (before.get(c.classid) ?? 0));
      expect(elsewhere.map((c) => c.origin!.path)).toEqual([]);
    }), 300_000);
});

describe.skipIf(!requireKernelTools())('a circuit moved to another site', () => {
  it('after every command of the plan, its IPv4 and IPv6 datagrams land in its old or its new class, never in the default', () =>
    withNetns(async (ns) => {
      const dir = tempDir('qp-circuits-move-');
      const pol = writeIsp(dir, 600, { down: 'v0', sites: true, leaf: 'bfifo' }); // AP_0: 500 circuits, AP_1: 100, both hashed
      await wire(ns);
      const qp = cli(ns);
      expect((await qp.run(['apply', pol, '--yes'])).code).toBe(0);
      const idsOf = () => new Map((compileSource(pol, readFileSync(pol, 'utf8')).state!.objects.filter((o) => o.kind === 'class') as HtbClass[]).map((c) => [c.origin!.path.split(' › ').at(-1)!.replace(/ \(circuit .*/, ''), c.classid]));
      const old = idsOf();
      const csv = join(dir, 'subs.csv');
      writeFileSync(csv, readFileSync(csv, 'utf8').replace(/^(1005,"[^"]*",d5,router,)AP_0,/m, '$1AP_1,'));
      const now = idsOf();
      const plan = JSON.parse((await qp.run(['plan', pol, '--format', 'json'])).stdout) as Plan;
      expect(plan.changes.filter((c) => c.kind === 'node').length).toBe(8); // per family: the top's node and the AP's node, old and new
      const { v4, v6host } = circuitAddress(5);
      const ours = [old.get('c1005')!, now.get('c1005')!];
      for (const [k, step] of plan.steps.entries()) {
        await ns.run(step.argv);
        const before = await counts(ns);
        await send(ns, 4, [{ addr: v4, count: 3 }]);
        await send(ns, 6, [{ addr: v6host, count: 3 }]);
        const after = await counts(ns);
        // The old class is gone after the last command: it counts nothing then.
        const got = (id: string) => (after.has(id) ? after.get(id)! - (before.get(id) ?? 0) : 0);
        expect({ step: k + 1, ours: ours.reduce((a, id) => a + got(id), 0) }, `after ${step.argv.join(' ')}`).toEqual({ step: k + 1, ours: 6 });
      }
      expect((await qp.run(['plan', pol, '--detailed-exitcode'])).code).toBe(0);
    }), 300_000);
});
