// Lab 8: the shipped policies' own latency under load (issue #12, point 4), for those this
// host's kernel runs as they are (no fq_codel, taprio, sch_tdma or IMQ needed):
// policies/branch-office.pol and policies/dual-wan.pol (each of its two uplinks). The rest
// run in the kernel lab (test/kernel-lab/shipped-latency.test.ts).
//
// Each policy is compiled unchanged but for interface names: the uplink under test becomes
// the lab's wan0 (the server behind it, client0 on the LAN side), its other interfaces the
// lab's spare lan1, so the script runs as written. Then lab 7's measurement (latency.ts), at
// the policy's own rates, egress and ingress:
//   (a) `ping -Q 0xb8` (DSCP EF; the reply keeps it): the policy's prio-0 voice class;
//   (b) the UDP echo on port 9000: no class matches it, so it lands in the default class,
//       beside the bulk flow, in the same fifo;
//   (c) the bulk TCP flow (iperf3, port 5201: the default class too), its sender's RTT.
// Goals on the medians: (a) ≤ a frame at the tree's rate + 5 ms; (b) ≤ 2 frames at the
// default class's ceil + 60 ms; (c) ≤ 100 ms where that ceil is ≤ 1 mbit (none here: the
// goal is printed, not applicable); the tree's HTB-counted rate within ±7 % of what the bulk
// flow may take, min(the default class's ceil, the tree's rate) — where this machine can
// forward 1.5× that: the policies cap wan0's GSO/GRO at one frame (their voice classes are
// slow), so the senders send single frames, and at 225–475 mbit a loaded 2-core host runs out
// of CPU first. The capacity is measured at the start, through an ifb and an HTB of 10 gbit,
// with single-frame packets; where it is short, the rate is printed, not asserted.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { HtbClass } from '../../src/model/types.js';
import { applyPolicy } from './policy.js';
import { emulateGro, latencyUnderLoad, mtuMs, udpEcho } from './latency.js';
import type { Lab } from './topology.js';
import { LAB } from './measure.js';
import { labSuite } from './suite.js';
import { withLab } from './topology.js';

const WARM = Number(process.env.QP_LAB_WARM ?? 3);
const WINDOW = Number(process.env.QP_LAB_WINDOW ?? 5);

/** Policy file, the uplink measured, and the renames that put it on the lab's ports. */
const CASES: Array<{ file: string; uplink: string; rename: Record<string, string> }> = [
  { file: 'branch-office.pol', uplink: 'wan0', rename: { 'lan0.30': 'lan1' } },
  { file: 'dual-wan.pol', uplink: 'wan0', rename: { wan1: 'lan1' } },
  { file: 'dual-wan.pol', uplink: 'wan1', rename: { wan1: 'wan0', wan0: 'lan1' } },
];

const policyPath = (file: string) => fileURLToPath(new URL(`../../policies/${file}`, import.meta.url));
/** The policy text with interfaces renamed (all at once: a swap stays a swap). */
export function renamed(text: string, rename: Record<string, string>): string {
  const names = Object.keys(rename).sort((a, b) => b.length - a.length);
  const re = new RegExp(`(?<![\\w.-])(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})(?![\\w.-])`, 'g');
  return text.replace(re, (n) => rename[n]!);
}

/** What the lab forwards with single-frame packets through wan0's trees, each direction, bit/s (frame bytes). */
async function capacity(lab: Lab): Promise<Record<'egress' | 'ingress', number>> {
  const tree = (dir: string) => `  ${dir} rate 10gbit { class x rate 10gbit default }`;
  await applyPolicy(lab, `interface wan0 {\n${tree('egress')}\n${tree('ingress')}\n}\n`);
  for (const host of [lab.client0, lab.server]) await host.ns.run(['ip', 'link', 'set', 'dev', 'eth0', 'gso_max_size', '1514']);
  const run = async (reverse: boolean) => {
    const r = await lab.client0.ns.run(['iperf3', '-c', lab.server.v4, '-p', '5201', '-t', '4', '-O', '1', '-J', ...(reverse ? ['-R'] : [])], { reject: false });
    const bps = (JSON.parse(String(r.stdout) || '{}') as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second ?? 0;
    return (bps * 1514) / 1448;
  };
  return { egress: await run(false), ingress: await run(true) };
}

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const mbit = (bps: number) => `${(bps / 1e6).toFixed(bps < 1e7 ? 2 : 1)} mbit`;

labSuite('lab 8: the shipped policies, latency under load at their own rates', () => {
  it(
    'branch-office and dual-wan (both uplinks): (a) voice within a frame + 5 ms, (b) a sparse flow in the default class within 2 frames + 60 ms, the tree at the bulk class ceil ±7 %, egress and ingress',
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        const echo = await udpEcho(lab, 9000);
        const cap = await capacity(lab);
        console.log(`[lab] lab 8: single-frame packets through 10gbit trees: egress ${mbit(cap.egress)}, ingress ${mbit(cap.ingress)}`);
        const rows: string[] = [];
        const failures: string[] = [];
        try {
          for (const c of CASES) {
            const text = renamed(readFileSync(policyPath(c.file), 'utf8'), c.rename);
            // The real path, so that `include "common/services.pol"` resolves.
            const compiled = await applyPolicy(lab, text, policyPath(c.file));
            await emulateGro(lab, compiled);
            for (const direction of ['egress', 'ingress'] as const) {
              const root = compiled.htbClass(`wan0 ${direction}`);
              const classes = compiled.state.objects.filter((o): o is HtbClass => o.kind === 'class' && o.dev === root.dev && o.parent === root.classid);
              const bulk = classes.find((k) => k.origin?.path.endsWith(' › bulk'));
              if (!bulk) throw new Error(`${c.file} ${c.uplink} ${direction}: no class bulk`);
              const expected = Math.min(bulk.ceil, root.ceil);
              const r = await latencyUnderLoad(lab, compiled, { direction, warm: WARM, window: WINDOW, tcpPort: 5201, udpPort: 9000, pingArgs: ['-Q', '0xb8'] });
              const name = `${c.file.replace('.pol', '')} ${c.uplink}`;
              rows.push(
                `| ${name} | ${direction} | ${mbit(root.ceil)} / ${mbit(bulk.ceil)} | ${f(mtuMs(root.ceil))} / ${f(mtuMs(bulk.ceil))} | ${f(r.a.median)} / ${f(r.a.p95)} | ${f(r.b.median)} / ${f(r.b.p95)} | ${f(r.c.median)} / ${f(r.c.p95)} | ${(r.treeRate / expected).toFixed(3)}${cap[direction] < 1.5 * expected ? ' (CPU-bound)' : ''} |`,
              );
              const check = (what: string, value: number, goal: number) => void (value <= goal || failures.push(`${name} ${direction} ${what}: ${f(value)} ms > ${f(goal)} ms`));
              check('(a) median', r.a.median, mtuMs(root.ceil) + 5);
              check('(b) median', r.b.median, 2 * mtuMs(bulk.ceil) + 60);
              if (bulk.ceil <= 1e6) check('(c) median', r.c.median, 100);
              const off = Math.abs(r.treeRate / expected - 1);
              const cpuBound = cap[direction] < 1.5 * expected;
              if (cpuBound) console.log(`[lab] lab 8 ${name} ${direction}: the lab forwards ${mbit(cap[direction])}, under 1.5× ${mbit(expected)}: rate printed, not asserted`);
              else if (!(off <= LAB.tolerance)) failures.push(`${name} ${direction}: tree rate ${mbit(r.treeRate)}, ${(off * 100).toFixed(1)} % off ${mbit(expected)}`);
              console.log(
                `[lab] lab 8 ${name} ${direction}: idle ping ${r.idle.ping.toFixed(3)} ms, udp ${r.idle.udp.toFixed(3)} ms; a n ${r.a.n} lost ${r.a.lost}, b n ${r.b.n} lost ${r.b.lost}, c n ${r.c.n}; goodput ${mbit(r.goodput)}; ${rows.at(-1)}`,
              );
            }
          }
        } finally {
          await echo.stop();
        }
        console.log(`[lab] lab 8: the shipped policies, added delay in ms over idle\n${SHIPPED_HEADER}\n${rows.join('\n')}`);
        expect(failures).toEqual([]);
      }),
    CASES.length * 2 * (WARM + WINDOW + 15) * 1000 + 60_000,
  );
});

const SHIPPED_HEADER =
  '| policy, uplink | direction | tree / default class ceil | frame time (tree / class) | (a) higher prio: median / p95 | (b) sparse, same class | (c) bulk TCP | tree rate / min(class ceil, tree) |\n|---|---|---|---|---|---|---|---|';
