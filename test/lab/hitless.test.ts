// Hitless changes, measured: steady UDP to every class of a 1 000-class ingress tree (a run
// of port classes classified by a u32 hash table, port-range classes on linear filters,
// and a run of prefix classes on a hash table of their own) while `qospolicy apply`
// (a) inserts a class before all others, (b) removes one, (c) changes one's rate, (d)
// changes one's match; and while an apply fails on its first deletion and restores the
// snapshot. Each class is sent the same number of datagrams; its packet counter on the ifb
// must grow by exactly that many: none to the default class (no filter missing, even for a
// moment), none to another class, none dropped. A class with a standing backlog whose rate
// changes keeps every queued packet. Counts, not rates: exact on a loaded machine too.
import { expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, type Cli } from '../apply/helpers.js';
import { faultyTools } from '../support/faulty.js';
import { withNetnsSet, type Netns } from '../support/netns.js';
import { tempDir } from '../support/tmp.js';
import { sendUdp } from '../support/udp.js';
import { parseClassCounters } from '../../src/state/index.js';
import type { Plan } from '../../src/plan/index.js';
import { labSuite } from './suite.js';

const HASHED = 400; // single ports: one u32 hash table
const LINEAR = 300; // two-port ranges: one filter each
const PREFIX = 300; // /24s: one u32 hash table on the third byte
/** Datagrams a second over all classes, and rounds (one datagram per class each). */
const RATE = 4000;
const ROUNDS = 32; // 8 s at 4 000/s: an apply of this tree takes 1–4 s here

interface Klass {
  name: string;
  line: string;
  /** Where its datagrams go (absent: sent nothing). */
  dest?: { addr: string; port: number };
}

const hashed = (i: number): Klass => ({ name: `h${i}`, line: `match udp dport ${10000 + i}`, dest: { addr: '10.9.0.1', port: 10000 + i } });
const linear = (i: number): Klass => ({ name: `l${i}`, line: `match udp dport ${20000 + 2 * i}-${20001 + 2 * i}`, dest: { addr: '10.9.0.1', port: 20000 + 2 * i + (i % 2) } });
const prefix = (i: number): Klass => ({ name: `p${i}`, line: `match dst 10.${50 + (i >> 8)}.${i & 255}.0/24`, dest: { addr: `10.${50 + (i >> 8)}.${i & 255}.7`, port: 9 } });
const BASE: Klass[] = [...Array.from({ length: HASHED }, (_, i) => hashed(i)), ...Array.from({ length: LINEAR }, (_, i) => linear(i)), ...Array.from({ length: PREFIX }, (_, i) => prefix(i))];

const policy = (classes: Klass[], slowRate = '64kbit') => `interface v0 {
  ingress rate 1gbit {
${classes.map((c) => `    class ${c.name} rate 100kbit ceil 1gbit { ${c.line} }`).join('\n')}
    class slow rate ${slowRate} ceil ${slowRate} {
      match udp dport 5555
      leaf bfifo limit 1mb
    }
    class rest rate 1mbit ceil 1gbit default
  }
}
`;

/** Packets (and drops) per class name, from ifb0's counters and the compiled classids. */
async function counters(router: Netns, ids: Map<string, string>): Promise<Map<string, { packets: number; dropped: number; backlog: number }>> {
  const text = String((await router.run(['tc', '-s', 'class', 'show', 'dev', 'ifb0'])).stdout);
  const byId = parseClassCounters(text);
  const out = new Map<string, { packets: number; dropped: number; backlog: number }>();
  for (const [name, id] of ids) {
    const c = byId.get(id);
    out.set(name, { packets: c?.packets ?? 0, dropped: c?.drops ?? 0, backlog: c?.backlogPackets ?? 0 });
  }
  return out;
}

/** The classid of each class by name, from a plan's desired state. */
async function classIds(qp: Cli, file: string): Promise<Map<string, string>> {
  const r = await qp.run(['plan', file, '--format', 'json']);
  const plan = JSON.parse(r.stdout) as Plan;
  const out = new Map<string, string>();
  // Policy classes only: the tree's root class (its label, no ›) counts everything.
  for (const o of plan.desired.objects) if (o.kind === 'class' && o.origin?.path.includes(' › ')) out.set(o.origin.path.split(' › ').at(-1)!, o.classid);
  return out;
}

interface Outcome {
  /** Datagrams counted in a class other than their own (the default included). */
  misclassified: number;
  /** Sent but in no class (dropped before or by the qdisc). */
  lost: number;
  wrong: string[];
  applyCode: number;
  applyOutput: string;
}

/**
 * Steady UDP to every class of `during` that has a destination while `apply` runs, then
 * per-class counts against what was sent.
 */
async function underTraffic(router: Netns, peer: Netns, qp: Cli, classes: Klass[], apply: () => Promise<{ code: number; stdout: string; stderr: string }>, idsFile: string): Promise<Outcome> {
  const sent = classes.filter((c) => c.dest);
  const ids = await classIds(qp, idsFile);
  const before = await counters(router, ids);
  const t0 = Date.now();
  const traffic = sendUdp(peer, ROUNDS * sent.length, 1000 / RATE, { to: sent.map((c) => c.dest!), size: 32 });
  await new Promise((r) => setTimeout(r, 500));
  const r = await apply();
  const applied = Date.now() - t0;
  await traffic;
  const sending = Date.now() - t0;
  expect(applied, 'the apply ended while traffic still flowed').toBeLessThan(sending - 200);
  await new Promise((r) => setTimeout(r, 300)); // the last datagrams through the ifb
  // The classes there now (a removed class's counter is gone with it; it was sent nothing).
  const after = await counters(router, await classIds(qp, idsFile));
  const delta = (name: string) => (after.get(name)?.packets ?? 0) - (before.get(name)?.packets ?? 0);
  const wrong: string[] = [];
  let misclassified = 0;
  let counted = 0;
  for (const [name] of after) {
    const want = sent.some((c) => c.name === name) ? ROUNDS : 0;
    const got = delta(name);
    counted += got;
    if (got !== want) wrong.push(`${name}: ${got} of ${want}`);
    if (got > want) misclassified += got - want;
  }
  return { misclassified, lost: ROUNDS * sent.length - counted, wrong, applyCode: r.code, applyOutput: r.stdout + r.stderr };
}

labSuite('hitless changes: 1 000 classes under steady UDP while apply changes them', () => {
  it(
    '(a) insert before all, (b) remove, (c) rate, (d) match, a failed apply restored: every datagram in its own class; a standing backlog survives a rate change',
    () =>
      withNetnsSet(['router', 'peer'], async ({ router, peer }) => {
        // No IPv6 (router solicitations would land in the default class) and no ARP: only our datagrams.
        for (const ns of [router, peer]) {
          await ns.run(['sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6']);
        }
        await router.veth('v0', 'v1', { peer });
        await router.run(['ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0']);
        await peer.run(['ip', 'addr', 'add', '10.9.0.2/24', 'dev', 'v1']);
        const mac = async (ns: Netns, dev: string) => JSON.parse(String((await ns.run(['ip', '-j', 'link', 'show', dev])).stdout))[0].address as string;
        await peer.run(['ip', 'neigh', 'replace', '10.9.0.1', 'lladdr', await mac(router, 'v0'), 'dev', 'v1', 'nud', 'permanent']);
        await router.run(['ip', 'neigh', 'replace', '10.9.0.2', 'lladdr', await mac(peer, 'v1'), 'dev', 'v0', 'nud', 'permanent']);
        await peer.run(['ip', 'route', 'add', '10.0.0.0/8', 'via', '10.9.0.1']);

        const dir = tempDir('qp-hitless-');
        const file = join(dir, 'site.pol');
        const qp = cli(router);
        const applyNow = (classes: Klass[], slowRate?: string) => {
          writeFileSync(file, policy(classes, slowRate));
          return qp.run(['apply', file, '--yes']);
        };
        writeFileSync(file, policy(BASE));
        const first = await qp.run(['apply', file, '--yes']);
        expect(first.code, first.stdout + first.stderr).toBe(0);

        const figures: string[] = [];
        /** Each figure printed as it comes (a later failure must not hide it). */
        const note = (line: string) => {
          figures.push(line);
          console.info(`hitless: ${line}`);
        };
        const scenario = async (label: string, classes: Klass[], next: Klass[], apply?: () => Promise<{ code: number; stdout: string; stderr: string }>) => {
          writeFileSync(file, policy(classes));
          const o = await underTraffic(router, peer, qp, classes.filter((c) => next.some((n) => n.name === c.name && n.line.includes(c.line))), apply ?? (() => applyNow(next)), file);
          note(`${label}: ${o.misclassified} misclassified, ${o.lost} lost; apply exit ${o.applyCode}`);
          return o;
        };

        // (a) a single-port class before all others: it joins the hashed run, one node added to a bucket
        const a = [{ name: 'first', line: 'match udp dport 9999' }, ...BASE];
        const oa = await scenario('(a) insert before all', BASE, a);
        expect(oa.applyCode, oa.applyOutput).toBe(0);
        expect(oa.wrong).toEqual([]);

        // (b) remove a class from the middle of the hashed run and one from the prefix run
        const b = a.filter((c) => c.name !== 'h200' && c.name !== 'p150');
        const ob = await scenario('(b) remove one (hashed) and one (prefix)', a, b);
        expect(ob.applyCode, ob.applyOutput).toBe(0);
        expect(ob.wrong).toEqual([]);

        // (c) one class's rate (in place), and (d) a match: a linear and a hashed class gain a port
        const c = b;
        writeFileSync(file, policy(b));
        const oc = await underTraffic(router, peer, qp, b, () => {
          writeFileSync(file, policy(b).replace('class h7 rate 100kbit', 'class h7 rate 300kbit'));
          return qp.run(['apply', file, '--yes']);
        }, file);
        note(`(c) rate: ${oc.misclassified} misclassified, ${oc.lost} lost`);
        expect(oc.applyCode, oc.applyOutput).toBe(0);
        expect(oc.wrong).toEqual([]);
        const d = c.map((k) => (k.name === 'l10' ? { ...k, line: `${k.line}, 30000` } : k.name === 'h9' ? { ...k, line: `${k.line}, 30001` } : k));
        const cPolicy = policy(b).replace('class h7 rate 100kbit', 'class h7 rate 300kbit');
        writeFileSync(file, cPolicy);
        const od = await underTraffic(router, peer, qp, c, () => {
          writeFileSync(file, policy(d).replace('class h7 rate 100kbit', 'class h7 rate 300kbit'));
          return qp.run(['apply', file, '--yes']);
        }, file);
        note(`(d) match: ${od.misclassified} misclassified, ${od.lost} lost`);
        expect(od.applyCode, od.applyOutput).toBe(0);
        expect(od.wrong).toEqual([]);

        // Rollback: an apply that inserts two classes into the hashed runs (a node each in the
        // IPv4 and the IPv6 run), made to fail at the last node (three are in): the restore
        // deletes what was added, the nodes by handle, and every old node stayed.
        const dPolicy = policy(d).replace('class h7 rate 100kbit', 'class h7 rate 300kbit');
        writeFileSync(file, dPolicy.replace('    class first', '    class second rate 100kbit ceil 1gbit { match udp dport 9998 }\n    class third rate 100kbit ceil 1gbit { match udp dport 9997 }\n    class first'));
        const planned = JSON.parse((await qp.run(['plan', file, '--format', 'json'])).stdout) as Plan;
        const lines = planned.steps.filter((s) => s.tool === 'tc' || s.tool === 'ip');
        const nodes = lines.flatMap((s, i) => (planned.changes[s.change]!.kind === 'node' ? [i] : []));
        expect(nodes).toHaveLength(4); // udp dport: a node in the IPv4 and in the IPv6 run, per class
        expect(lines.every((s) => s.argv[2] !== 'del')).toBe(true); // nothing of the old tree goes
        const faulty = faultyTools();
        const newFile = file;
        writeFileSync(join(dir, 'old.pol'), dPolicy);
        const oe = await underTraffic(router, peer, qp, d, () => qp.run(['apply', newFile, '--yes'], faulty.env({ QP_FAULT_LINE: String(nodes.at(-1)! + 1) })), join(dir, 'old.pol'));
        note(`(rollback) two classes inserted into the hashed runs, failing at the last of their 4 nodes: ${oe.misclassified} misclassified, ${oe.lost} lost; apply exit ${oe.applyCode}`);
        expect(oe.applyCode).toBe(1);
        expect(oe.applyOutput).toContain('The system was restored to its state before the apply.');
        expect(oe.wrong).toEqual([]);

        // A standing backlog in `slow` (64kbit): 600 datagrams of 1000 bytes at once (here htb
        // lets most through at first: 50–70 stay queued, ~8 s of sending); its rate changes
        // to 128kbit while they wait: every one is still sent, none dropped.
        writeFileSync(file, dPolicy);
        const ids = await classIds(qp, file);
        const s0 = (await counters(router, ids)).get('slow')!;
        await sendUdp(peer, 600, 0.1, { to: [{ addr: '10.9.0.1', port: 5555 }] });
        await new Promise((r) => setTimeout(r, 300));
        const queued = (await counters(router, ids)).get('slow')!;
        expect(queued.backlog).toBeGreaterThan(30);
        writeFileSync(file, dPolicy.replace('class slow rate 64kbit ceil 64kbit', 'class slow rate 128kbit ceil 128kbit'));
        const r = await qp.run(['apply', file, '--yes']);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const kept = (await counters(router, ids)).get('slow')!;
        expect(kept.backlog, 'still queued when the apply ended').toBeGreaterThan(0);
        for (let i = 0; i < 150 && (await counters(router, ids)).get('slow')!.backlog > 0; i++) await new Promise((ok) => setTimeout(ok, 200));
        const done = (await counters(router, ids)).get('slow')!;
        note(`(backlog) slow: ${queued.backlog} queued before the rate change, ${kept.backlog} when the apply ended; ${done.packets - s0.packets} of 600 sent, ${done.dropped - s0.dropped} dropped`);
        expect(done.dropped - s0.dropped).toBe(0);
        expect(done.packets - s0.packets).toBe(600);
        console.info(`hitless, 1 000 classes, ${RATE} datagrams/s, ${ROUNDS} per class per scenario:\n  ${figures.join('\n  ')}`);
      }),
    10 * 60_000,
  );
});
