// 5. ISP scale: subscriber lists from bench/circuits.js (LibreQoS-style ShapedDevices.csv,
// one IPv4 host and one IPv6 /64 per circuit), each figure a ratio against a baseline of the
// same run:
//   - apply from empty, 10 000 circuits both directions (v0: down, v1: up): `qospolicy apply`
//     against the floor, the same compiled commands through one `tc -batch` in a fresh
//     namespace; per circuit against LibreQoS's published 0.73 ms;
//   - one circuit's rate changed in the CSV: `qospolicy apply` of the change (plan: 1 to change);
//   - one circuit added to the CSV: `qospolicy apply` of it (plan: its class, leaf and bucket nodes);
//   - 50 000 circuits (under 100 APs of a network.json): compile wall time and max RSS;
//   - the data plane: packets per second through 10, 1 000 and 10 000 circuits (hashed by
//     address byte, two levels), against 10.
// The leaf is bfifo: this host's kernel has no fq_codel or cake (the kernel lab has).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { circuitAddress, shapedDevices, writeIsp } from './circuits.js';
import { qospolicyApply } from './apply.js';
import { BIN, classCounters, log, makeNetns, median, must, routeThroughV0, scaled, tempDir, timed, withNetns, writeTemp } from './lib.js';

const LEAF = 'bfifo';

export async function benchIsp({ runs, sender, dpRounds, dpSeconds, warmup }) {
  const N = scaled(10_000);
  const BIG = scaled(50_000);
  const out = { n: N, big: BIG, runs };

  // Apply from empty, against the floor.
  const dir = tempDir('qpbench-isp-');
  const pol = writeIsp(dir, N, { down: 'v0', up: 'v1', sites: false, leaf: LEAF });
  const prefix = join(dir, 'batch');
  await must([process.execPath, BIN, 'compile', pol, '--format', 'batch', '-o', prefix]);
  const tcCommands = readFileSync(`${prefix}.tc`, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
  const samples = { apply: [], floor: [], change: [], add: [] };
  for (let r = 1; r <= runs; r++) {
    log(`isp: apply ${N} circuits both ways, run ${r}/${runs}`);
    await withNetns(async (ns) => {
      const a = await qospolicyApply(ns, pol);
      samples.apply.push(a);
      if (r === 1) out.classes = (await classCounters(ns, 'v0')).size + (await classCounters(ns, 'v1')).size;
      // One circuit's rate changed in the CSV, applied on top.
      writeFileSync(join(dir, 'subs.csv'), shapedDevices(N, { down: { [Math.floor(N / 2)]: 150 }, sites: false }));
      const c = await timed(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'apply', pol, '--yes'], { env: { QOSPOLICY_STATE_DIR: a.stateDir, NO_COLOR: '1' } });
      if (c.code !== 0) throw new Error(`qospolicy apply of the change failed: ${c.stderr}`);
      samples.change.push({ ...c, summary: /Plan: (.*)/.exec(c.stdout)?.[1] ?? '' });
      // One circuit added (an IPv4 host and an IPv6 /64 beyond the others), applied on top.
      const changed = shapedDevices(N, { down: { [Math.floor(N / 2)]: 150 }, sites: false });
      writeFileSync(join(dir, 'subs.csv'), `${changed}99999,New one,dnew,router,,,100.127.0.5,2001:db8:ff:1::/64,1,1,100,20,\n`);
      const add = await timed(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'apply', pol, '--yes'], { env: { QOSPOLICY_STATE_DIR: a.stateDir, NO_COLOR: '1' } });
      writeFileSync(join(dir, 'subs.csv'), shapedDevices(N, { sites: false }));
      if (add.code !== 0) throw new Error(`qospolicy apply of the added circuit failed: ${add.stderr}`);
      samples.add.push({ ...add, summary: /Plan: (.*)/.exec(add.stdout)?.[1] ?? '' });
    });
    await withNetns(async (ns) => {
      const f = await timed(['ip', 'netns', 'exec', ns.name, 'tc', '-batch', `${prefix}.tc`]);
      if (f.code !== 0) throw new Error(`tc -batch failed: ${f.stderr}`);
      samples.floor.push(f);
    });
  }
  out.classFloor = await classFloor(`${prefix}.tc`, [N / 10, N].map((k) => Math.round(k)), runs);
  const stat = (xs) => ({ wall: median(xs.map((x) => x.seconds)), cpu: median(xs.map((x) => x.cpu)), rssKB: median(xs.map((x) => x.rssKB)), walls: xs.map((x) => x.seconds) });
  out.apply = stat(samples.apply);
  out.floor = stat(samples.floor);
  out.change = { ...stat(samples.change), summary: samples.change[0]?.summary };
  out.add = { ...stat(samples.add), summary: samples.add[0]?.summary };
  out.tcCommands = tcCommands;

  // Compile: the 10 000 circuits above, and 50 000 (under APs of a network.json). A hashed
  // run of circuits takes one slot of filter priorities (check/hashruns.ts), so 50 000 fit
  // a tree; a refusal would still be measured and reported.
  const bigDir = tempDir('qpbench-isp-big-');
  const bigPol = writeIsp(bigDir, BIG, { down: 'v0', up: 'v1', sites: true, leaf: LEAF });
  const compiles = { n: [], big: [] };
  for (let r = 1; r <= runs; r++) {
    log(`isp: compile ${N} and ${BIG} circuits, run ${r}/${runs}`);
    const c = await timed([process.execPath, BIN, 'compile', pol, '--format', 'batch', '-o', join(dir, 'again')]);
    if (c.code !== 0) throw new Error(`compile of ${N} circuits failed: ${c.stderr.slice(0, 2000)}`);
    compiles.n.push(c);
    compiles.big.push(await timed([process.execPath, BIN, 'compile', bigPol, '--format', 'batch', '-o', join(bigDir, 'out')]));
  }
  out.compileN = stat(compiles.n);
  out.compileBig = { ...stat(compiles.big), code: compiles.big[0].code, errors: [...new Set(compiles.big[0].stderr.split('\n').filter((l) => / error QP\d+/.test(l)).map((l) => l.replace(/^.*?error /, '')))] };

  // Data plane at 10, 1 000 and 10 000 circuits.
  const sizes = [...new Set([10, 1000, 10_000].map(scaled))];
  const configs = {};
  for (const n of sizes) {
    log(`isp: data plane, building ${n} circuits`);
    const d = tempDir('qpbench-isp-dp-');
    const p = writeIsp(d, n, { down: 'v0', sites: false, leaf: LEAF });
    const ns = await makeNetns();
    await qospolicyApply(ns, p);
    await routeThroughV0(ns);
    await ns.must(['ip', 'route', 'add', '100.64.0.0/10', 'via', '192.168.77.2', 'dev', 'v0']);
    // As many active circuits in every size (the smallest size's), spread over the list, so
    // the sizes differ only in how many circuits the classifier holds.
    const k = Math.min(...sizes);
    const dests = Array.from({ length: k }, (_, j) => `${circuitAddress(Math.floor((j * n) / k)).v4} 9`);
    configs[n] = { ns, dests: writeTemp(d, 'dests.txt', dests.join('\n') + '\n'), pps: [] };
  }
  for (let round = 1; round <= dpRounds; round++) {
    for (const n of sizes) {
      const c = configs[n];
      const before = round === 1 ? await classCounters(c.ns) : undefined;
      const r = await c.ns.must([sender, c.dests, String(dpSeconds), String(warmup), '/sys/class/net/v1/statistics/rx_packets']);
      c.pps.push(JSON.parse(r.stdout.trim()).pps);
      if (before) {
        const after = await classCounters(c.ns);
        c.classesHit = [...after].filter(([id, a]) => id !== '1:1' && a.packets > (before.get(id)?.packets ?? 0)).length;
      }
    }
  }
  out.dataplane = sizes.map((n) => ({ circuits: n, pps: median(configs[n].pps), all: configs[n].pps, classesHit: configs[n].classesHit }));
  for (const c of Object.values(configs)) await c.ns.remove();
  return out;
}

/**
 * The kernel's own cost of creating HTB classes: the root and the first k of v0's circuit
 * classes (as compiled) through `tc -batch` in a fresh namespace, nothing else. Creating a
 * class walks every class of its qdisc (the kernel rebinds filters to it: tc_bind_tclass)
 * and a global list of filter blocks (one per class), so the cost per class grows with the
 * classes already there: the floor below which no tool can create them on this kernel.
 */
async function classFloor(batch, sizes, runs) {
  const lines = readFileSync(batch, 'utf8').split('\n');
  const root = lines.filter((l) => /^(qdisc add dev v0 root|class add dev v0 parent 1: )/.test(l));
  const circuits = lines.filter((l) => l.startsWith('class add dev v0 parent 1:1 '));
  const dir = tempDir('qpbench-isp-floor-');
  const out = [];
  for (const k of sizes) {
    const file = writeTemp(dir, `classes-${k}.tc`, [...root, ...circuits.slice(0, k)].join('\n') + '\n');
    const xs = [];
    for (let r = 1; r <= runs; r++) {
      log(`isp: the kernel creating ${k} htb classes, run ${r}/${runs}`);
      await withNetns(async (ns) => {
        const t = await timed(['ip', 'netns', 'exec', ns.name, 'tc', '-batch', file]);
        if (t.code !== 0) throw new Error(`tc -batch failed: ${t.stderr}`);
        xs.push(t);
      });
    }
    out.push({ classes: k, wall: median(xs.map((x) => x.seconds)), sys: median(xs.map((x) => x.sys)) });
  }
  return out;
}

/** The report's section. */
export function ispReport(isp, { fmtS, fmtMB, ratio }) {
  const lines = [];
  const p = (s = '') => lines.push(s);
  const per = (isp.apply.wall / isp.n) * 1000;
  p('## 5. ISP scale: circuits from a ShapedDevices.csv');
  p();
  p(`Generated by bench/circuits.js: ${isp.n.toLocaleString('en')} circuits (one IPv4 host and one IPv6 /64 each), shaped both ways`);
  p('(v0 by destination with the download columns, v1 by source with the upload ones), leaf bfifo (no fq_codel on this host\'s');
  p(`kernel). ${isp.runs} run(s); medians.`);
  p();
  p('| measure | figure | baseline | ratio | target |');
  p('|---|---:|---:|---:|---|');
  p(`| apply from empty (${isp.classes} classes, ${isp.tcCommands.toLocaleString('en')} tc commands) | ${fmtS(isp.apply.wall)} (CPU ${fmtS(isp.apply.cpu)}, ${fmtMB(isp.apply.rssKB)}) | floor, same commands by \`tc -batch\`: ${fmtS(isp.floor.wall)} | ${ratio(isp.apply.wall, isp.floor.wall)} | ≤ 3× |`);
  p(`| apply per circuit | ${per.toFixed(3)} ms | LibreQoS's published 0.73 ms | ${per <= 0.73 ? `${ratio(0.73, per)} faster` : `${ratio(per, 0.73)} slower`} | ≥ 5× faster |`);
  p(`| one circuit's rate changed, applied (${isp.change.summary}) | ${fmtS(isp.change.wall)} | | | < 1 s |`);
  if (isp.add) p(`| one circuit added, applied (${isp.add.summary.replace(/\.$/, '')}: per direction its class, its leaf and one bucket node per family) | ${fmtS(isp.add.wall)} (CPU ${fmtS(isp.add.cpu)}) | rate change: ${fmtS(isp.change.wall)} (CPU ${fmtS(isp.change.cpu)}) | ${ratio(isp.add.wall, isp.change.wall)} | only its objects |`);
  p(`| compile ${isp.n.toLocaleString('en')} circuits, both ways | ${fmtS(isp.compileN.wall)}, max RSS ${fmtMB(isp.compileN.rssKB)} | | | |`);
  p(`| compile ${isp.big.toLocaleString('en')} circuits (under APs), both ways | ${fmtS(isp.compileBig.wall)}, max RSS ${fmtMB(isp.compileBig.rssKB)}${isp.compileBig.code ? `, **refused** (exit ${isp.compileBig.code}): ${isp.compileBig.errors.join('; ')}` : ''} | | | < 5 s, < 1 GB |`);
  p();
  p(`Data plane: 64-byte UDP datagrams out of v0 to ${isp.dataplane[0].circuits} of the circuits\' IPv4 addresses in every size (spread over the list), counted at v1.`);
  p();
  p('| circuits | packets/s | ÷ 10 circuits | classes hit | rounds |');
  p('|---:|---:|---:|---:|---|');
  const base = isp.dataplane[0].pps;
  for (const d of isp.dataplane) p(`| ${d.circuits.toLocaleString('en')} | ${Math.round(d.pps).toLocaleString('en')} | ${(d.pps / base).toFixed(2)} | ${d.classesHit} | ${d.all.map((x) => Math.round(x)).join(', ')} |`);
  p();
  const verdict = (ok) => (ok ? 'MET' : 'NOT MET');
  const last = isp.dataplane.at(-1);
  p(`Targets in this run: apply ≤ 3× the floor ${verdict(isp.apply.wall <= 3 * isp.floor.wall)}; ≥ 5× faster per circuit than 0.73 ms ${verdict(per * 5 <= 0.73)}; a rate change applied in < 1 s ${verdict(isp.change.wall < 1)}; ${isp.big.toLocaleString('en')} circuits compiled in < 5 s and < 1 GB ${verdict(!isp.compileBig.code && isp.compileBig.wall < 5 && isp.compileBig.rssKB < 1024 * 1024)}; data plane at ${last.circuits.toLocaleString('en')} within 10 % of 10 ${verdict(last.pps >= 0.9 * base)}.`);
  p();
  if (isp.classFloor) {
    const [a, b] = isp.classFloor;
    const us = (x) => Math.round((x.wall / x.classes) * 1e6);
    const floorPer = (isp.floor.wall / isp.n) * 1000;
    p(`The kernel's own floor: creating HTB classes alone (the root and the first k circuit classes of v0, as compiled, by \`tc -batch\` in a fresh namespace) took ${fmtS(a.wall)} for ${a.classes.toLocaleString('en')} (${us(a)} µs a class, ${fmtS(a.sys)} in the kernel) and ${fmtS(b.wall)} for ${b.classes.toLocaleString('en')} (${us(b)} µs a class, ${fmtS(b.sys)} in the kernel): ${ratio(b.wall / b.classes, a.wall / a.classes)} the cost per class at ten times the classes. Creating a class walks every class of its qdisc (the kernel rebinds filters to the new class, \`tc_bind_tclass\`) and a global list with a filter block per class (\`flow_indr_dev_setup_offload\`); \`perf record -g\` of 10 000 class adds, once on 2026-12-07, put 58 % of the time in the first walk and 17 % in the second. The floor, the same commands by \`tc -batch\` with no tool around them, is ${floorPer.toFixed(2)} ms per circuit in this run; "5× faster than 0.73 ms" asks ${(0.73 / 5).toFixed(3)} ms${floorPer > 0.73 / 5 ? ': the kernel alone takes ' + ratio(floorPer, 0.73 / 5) + ' that, so no tool meets it here with a class per circuit in one HTB tree per device' : ''}.`);
    p();
  }
  p('Read with care: the 0.73 ms is LibreQoS\'s published figure on its own hardware (13 190 tc commands in 0.5 s, ~0.04 ms');
  p('each); here one tc command costs what the floor shows (its wall time ÷ the commands), on a shared, loaded VM. With');
  p('bfifo leaves a new ceil also changes the leaf\'s byte limit (a second in-place `~`, a `tc qdisc change`); with fq_codel');
  p('leaves it is one `tc class change` (test/circuits/plan.test.ts). In the data plane every size has the same active');
  p('classes\' count, so the sizes differ in the classifier (and HTB\'s idle classes) only; the rounds drift with the');
  p('machine\'s load (compare each round\'s column).');
  p();
  return lines.join('\n');
}
