// Lab 7: the delay a shaped class adds under load, at 800 kbit, 1, 10 and 100 mbit, egress
// and ingress (IFB), with the compiler's default leaf on this kernel (no fq_codel: the
// time-bounded bfifo). How it is measured: latency.ts. Goals (issue #12), asserted on the
// medians (p95 printed beside them):
//   (a) a ping in a higher-prio class: ≤ one frame's time + 5 ms;
//   (b) a sparse UDP flow in the bulk flow's class (same fifo): ≤ 2 frame times + 60 ms;
//   (c) the bulk TCP flow's own added RTT: ≤ 100 ms at 1 mbit and below;
// and the tree's HTB-counted rate within ±7 % of the tree rate.
import { expect, it } from 'vitest';
import { applyPolicy } from './policy.js';
import { emulateGro, latencyUnderLoad, mtuMs, udpEcho, type LatencyRun } from './latency.js';
import { LAB } from './measure.js';
import { labSuite } from './suite.js';
import { withLab } from './topology.js';

/** QP_LAB_SPEEDS=800000,1000000 runs fewer speeds (bit/s). */
const SPEEDS = (process.env.QP_LAB_SPEEDS ?? '800000,1000000,10000000,100000000').split(',').map(Number);
const WARM = Number(process.env.QP_LAB_WARM ?? 3);
const WINDOW = Number(process.env.QP_LAB_WINDOW ?? 5);

const bits = (bps: number) => `${Math.round(bps)}bit`;
/** A prio-0 class for ICMP and the bulk class (the default) on both of wan0's trees. */
const policyAt = (bps: number) => {
  const tree = (dir: string) =>
    `  ${dir} rate ${bits(bps)} {\n    class hi rate ${bits(bps * 0.2)} ceil ${bits(bps)} prio 0 { match icmp }\n    class bulk rate ${bits(bps * 0.8)} ceil ${bits(bps)} prio 3 default\n  }`;
  return `interface wan0 {\n${tree('egress')}\n${tree('ingress')}\n}\n`;
};

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
export function latencyRow(speed: string, r: LatencyRun, ceil: number): string {
  return `| ${speed} | ${r.direction} | ${f(mtuMs(ceil))} | ${f(r.a.median)} / ${f(r.a.p95)} | ${f(r.b.median)} / ${f(r.b.p95)} | ${f(r.c.median)} / ${f(r.c.p95)} | ${(r.treeRate / ceil).toFixed(3)} |`;
}
export const LATENCY_HEADER = '| speed | direction | frame time | (a) higher prio: median / p95 | (b) sparse, same class | (c) bulk TCP | tree rate / configured |\n|---|---|---|---|---|---|---|';

labSuite('lab 7: latency under load', () => {
  it(
    'holds (a) a higher-prio ping, (b) a sparse flow beside the bulk and (c) the bulk flow itself within their goals at every speed',
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        const echo = await udpEcho(lab, 9000);
        const rows: string[] = [];
        const failures: string[] = [];
        try {
          for (const bps of SPEEDS) {
            const compiled = await applyPolicy(lab, policyAt(bps));
            const gro = await emulateGro(lab, compiled);
            const speed = bps >= 1e6 ? `${bps / 1e6} mbit` : `${bps / 1e3} kbit`;
            for (const direction of ['egress', 'ingress'] as const) {
              const r = await latencyUnderLoad(lab, compiled, { direction, warm: WARM, window: WINDOW, tcpPort: 5201, udpPort: 9000 });
              rows.push(latencyRow(speed, r, bps));
              const frame = mtuMs(bps);
              const check = (what: string, value: number, goal: number) => {
                if (!(value <= goal)) failures.push(`${speed} ${direction} ${what}: ${f(value)} ms > ${f(goal)} ms`);
              };
              check('(a) median', r.a.median, frame + 5);
              check('(b) median', r.b.median, 2 * frame + 60);
              if (bps <= 1e6) check('(c) median', r.c.median, 100);
              const off = Math.abs(r.treeRate / bps - 1);
              if (!(off <= LAB.tolerance)) failures.push(`${speed} ${direction} tree rate ${(r.treeRate / 1e6).toFixed(3)} Mbit/s, ${(off * 100).toFixed(1)} % off ${speed}`);
              console.log(
                `[lab] lab 7 ${speed} ${direction}: sender gso_max_size ${direction === 'egress' ? gro.egress : gro.ingress}; idle ping ${r.idle.ping.toFixed(3)} ms, udp ${r.idle.udp.toFixed(3)} ms; ` +
                  `a ${f(r.a.median)}/${f(r.a.p95)} (n ${r.a.n}, lost ${r.a.lost}), b ${f(r.b.median)}/${f(r.b.p95)} (n ${r.b.n}, lost ${r.b.lost}), c ${f(r.c.median)}/${f(r.c.p95)} (n ${r.c.n}); ` +
                  `tree ${(r.treeRate / 1e6).toFixed(3)} Mbit/s, goodput ${(r.goodput / 1e6).toFixed(3)}`,
              );
            }
          }
        } finally {
          await echo.stop();
        }
        console.log(`[lab] lab 7: added delay in ms over idle\n${LATENCY_HEADER}\n${rows.join('\n')}`);
        expect(failures).toEqual([]);
      }),
    SPEEDS.length * 2 * (WARM + WINDOW + 12) * 1000 + 60_000,
  );
});
