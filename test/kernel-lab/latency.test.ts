// Latency under load with fq_codel, the default leaf where the target has it (Debian's 6.1
// kernel under qemu). The same measurement as test/lab/latency.test.ts (lab 7), inside the
// VM's namespaces (matches-lab.ts TOPOLOGY), at 800 kbit, 1, 10 and 100 mbit, egress and
// ingress (IFB), while one TCP flow saturates the direction:
//   (a) `ping -Q 0xb8` (DSCP EF; Linux echoes the TOS back) in a prio-0 class: ≤ a frame + 5 ms;
//   (b) a plain ping in the bulk flow's class (its own fq_codel flow): ≤ a frame + 10 ms;
//   (c) the bulk TCP flow's smoothed RTT at its sender (iperf3 -i 0.5's tcp_info rtt; a report
//       every 0.1 s cost the VM 15-25 % of its TCP rate under TCG): ≤ 100 ms at ≤ 1 mbit;
// added delay = sample − the idle median of the same probe, goals on the medians (p95 printed);
// and the tree's HTB-counted rate within ±7 %. GSO: as in lab 7, the sender's gso_max_size is
// what the policy asks of wan0 (veth has no GRO; the VM has no ethtool).
//
// The VM runs with INSTRUCTION_CLOCK (vm.ts: `-icount shift=2,sleep=off`): the guest's clock counts executed
// instructions (2^shift ns each) instead of following the host's, so a vCPU thread that loses the
// host CPU stops the guest's time too. Under plain TCG on this loaded 2-core host a 1 ms guest
// timer woke up to 176 ms late and HTB lost what its 1 ms burst could not make up (0.64-0.95 of
// the rate at 10 and 100 mbit; RESULTS.md has the measurements). Delays are then in guest time
// too, which is the time the guest's qdiscs and TCP run by.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_HOOK_TIMEOUT, LabVm, labGate, labPaths, prepareLab, INSTRUCTION_CLOCK } from './vm.js';
import { ADDR, compileCli, type Compiled, sections, Site, TOPOLOGY } from './matches-lab.js';
import { parseClassCounters } from '../../src/state/index.js';
import { acquireLabLock } from '../lab/lock.js';
import { median } from '../lab/measure.js';
import { stat } from '../lab/latency.js';

const lab = await prepareLab();
const ready = labGate(lab);

const SPEEDS = (process.env.QP_LAB_SPEEDS ?? '800000,1000000,10000000,100000000').split(',').map(Number);
const WARM = 3;
const WINDOW = 5;
const HZ = 10;

const bits = (bps: number) => `${Math.round(bps)}bit`;
const policyAt = (bps: number) => {
  const tree = (dir: string) =>
    `  ${dir} rate ${bits(bps)} {\n    class hi rate ${bits(bps * 0.2)} ceil ${bits(bps)} prio 0 { match dscp ef }\n    class bulk rate ${bits(bps * 0.8)} ceil ${bits(bps)} prio 3 default\n  }`;
  return `target { features htb, u32, ingress, clsact, ifb, mirred, fq_codel }\ninterface wan0 {\n${tree('egress')}\n${tree('ingress')}\n}\n`;
};
const mtuMs = (bps: number) => (1514 * 8 * 1000) / bps;
const speedName = (bps: number) => (bps >= 1e6 ? `${bps / 1e6} mbit` : `${bps / 1e3} kbit`);

const pings = (text: string | undefined) => [...(text ?? '').matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));

/** The bash run in the VM for one speed and direction; prints sections (@@NAME). */
function measureScript(dir: 'egress' | 'ingress', gso: number): string {
  const count = WINDOW * HZ;
  const dev = dir === 'egress' ? 'wan0' : 'ifb0';
  const srv = ADDR.server.v4;
  return String.raw`
ip -n ${dir === 'egress' ? 'client' : 'server'} link set dev eth0 gso_max_size ${gso}
# The server in JSON mode, so that --get-server-output brings its intervals (the sender's rtt under -R).
ip netns exec server iperf3 -s -1 -D -J -p 5201 --logfile /tmp/server.json
for _ in $(seq 50); do ip netns exec server ss -Hltn "sport = :5201" | grep -q . && break; sleep 0.1; done
echo @@idle_a; ip netns exec client ping -n -Q 0xb8 -i 0.1 -c 10 ${srv} || true
echo @@idle_b; ip netns exec client ping -n -i 0.1 -c 10 ${srv} || true
ip netns exec client iperf3 -c ${srv} -p 5201 -t ${WARM + WINDOW + 1} -O ${WARM} -i 0.5 -J --get-server-output ${dir === 'ingress' ? '-R' : ''} > /tmp/bulk.json 2>&1 &
bulk=$!
sleep ${WARM}
echo @@before; tc -n router -s class show dev ${dev}; echo @@t0; cut -d' ' -f1 /proc/uptime
ip netns exec client ping -n -Q 0xb8 -i 0.1 -c ${count} -W 2 ${srv} > /tmp/a.txt 2>&1 &
pa=$!
ip netns exec client ping -n -i 0.1 -c ${count} -W 2 ${srv} > /tmp/b.txt 2>&1 &
pb=$!
wait $pa $pb || true
echo @@after; tc -n router -s class show dev ${dev}; echo @@t1; cut -d' ' -f1 /proc/uptime
wait $bulk || true
echo @@a; cat /tmp/a.txt
echo @@b; cat /tmp/b.txt
echo @@bulk; cat /tmp/bulk.json
echo @@leaf; tc -n router -s qdisc show dev ${dev}
`;
}

describe.skipIf(!ready)('latency under load with fq_codel (Debian 6.1 under qemu)', { timeout: 180_000 }, () => {
  let vm: LabVm | undefined;
  let site: Site;
  let release: (() => Promise<void>) | undefined;
  const rows: string[] = [];
  /** TCP through the VM's namespaces without a policy, bit/s: what the emulated CPU forwards. */
  let capacity = 0;

  beforeAll(async () => {
    release = await acquireLabLock();
    const [booted, compiled] = await Promise.all([
      LabVm.boot(labPaths(lab), { files: { '/root/topology.sh': TOPOLOGY }, qemuArgs: INSTRUCTION_CLOCK, bootTimeoutMs: 240_000 }),
      Promise.all(SPEEDS.map(async (bps) => [`latency-${bps}`, await compileCli(`latency-${bps}`, policyAt(bps))] as const)),
    ]);
    vm = booted;
    site = new Site(vm, Object.fromEntries(compiled));
    await vm.run('bash /root/topology.sh', { check: true, timeoutMs: 30_000 });
    const out = await site.sh(`iperf_server 5201\nip netns exec client iperf3 -c ${ADDR.server.v4} -p 5201 -t 4 -O 1 -J`, 180_000);
    capacity = (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
    console.log(`[kernel-lab] latency: unshaped TCP through the VM's router: ${(capacity / 1e6).toFixed(1)} Mbit/s`);
  }, BOOT_HOOK_TIMEOUT + 15 * 60_000);

  afterAll(async () => {
    await vm?.close();
    await release?.();
    console.log(`[kernel-lab] latency under load (fq_codel), added delay in ms over idle\n| speed | direction | frame time | (a) higher prio: median / p95 | (b) sparse, same class | (c) bulk TCP | tree rate / configured |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`);
  }, 30_000);

  for (const bps of SPEEDS) {
    it(`${speedName(bps)}: (a) ≤ a frame + 5 ms, (b) ≤ a frame + 10 ms${bps <= 1e6 ? ', (c) ≤ 100 ms' : ''}, rate ±7 %, egress and ingress`, async () => {
      const c: Compiled = await site.apply(`latency-${bps}`);
      expect(c.script).toContain('fq_codel');
      const gsoOf = (key: string) => Number(new RegExp(`${key}'? '?(\\d+)`).exec(c.script)?.[1] ?? 65536);
      const failures: string[] = [];
      // Under TCG on a loaded host the VM forwards a few tens of Mbit/s: where it cannot carry
      // 1.5× the speed, the CPU and not the shaper is the bottleneck, and nothing is asserted.
      const measurable = capacity >= 1.5 * bps;
      if (!measurable) console.log(`[kernel-lab] ${speedName(bps)}: the VM forwards ${(capacity / 1e6).toFixed(1)} Mbit/s unshaped, under 1.5× the speed: figures recorded, not asserted`);
      for (const dir of ['egress', 'ingress'] as const) {
        const out = sections(await site.sh(measureScript(dir, dir === 'egress' ? gsoOf('gso_max_size') : gsoOf('gro_max_size')), 300_000));
        const idleA = median(pings(out.idle_a));
        const idleB = median(pings(out.idle_b));
        const a = stat(pings(out.a), idleA);
        const b = stat(pings(out.b), idleB);
        // (c): the sender's smoothed RTT every 0.5 s from iperf3's own intervals (tcp_info; the
        // VM's ss has no inet_diag), after the warm-up (iperf3's omitted intervals).
        type Intervals = { intervals?: Array<{ streams?: Array<{ rtt?: number; omitted?: boolean }> }> };
        const bulk = JSON.parse(out.bulk ?? '{}') as Intervals & { server_output_json?: Intervals };
        const senderJson = dir === 'egress' ? bulk : bulk.server_output_json;
        const cs = (senderJson?.intervals ?? []).flatMap((i) => i.streams ?? []).filter((st) => !st.omitted && st.rtt !== undefined).map((st) => st.rtt! / 1000);
        const cc = stat(cs, idleA);
        const root = '1:1'; // the tree's root class
        const sent = (t: string | undefined) => parseClassCounters(t ?? '').get(root)?.bytes ?? NaN;
        const secs = Number(out.t1?.trim()) - Number(out.t0?.trim());
        const rate = ((sent(out.after) - sent(out.before)) * 8) / secs;
        const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
        rows.push(`| ${speedName(bps)}${measurable ? '' : ' (VM-bound)'} | ${dir} | ${f(mtuMs(bps))} | ${f(a.median)} / ${f(a.p95)} | ${f(b.median)} / ${f(b.p95)} | ${f(cc.median)} / ${f(cc.p95)} | ${(rate / bps).toFixed(3)} |`);
        console.log(`[kernel-lab] ${speedName(bps)} ${dir}: idle a ${idleA} b ${idleB} ms; a n ${a.n}, b n ${b.n}, c n ${cc.n}; ${rows.at(-1)}\n${(out.leaf ?? '').split('\n').filter((l) => /fq_codel|backlog|maxpacket/.test(l)).slice(0, 6).join('\n')}`);
        if (!cs.length || !Number.isFinite(rate)) console.log(`[kernel-lab] raw output of ${speedName(bps)} ${dir}:\n${Object.entries(out).map(([k, v]) => `@@${k}\n${v.slice(0, 1500)}`).join('\n')}`);
        const frame = mtuMs(bps);
        const check = (what: string, v: number, goal: number) => void (v <= goal || failures.push(`${speedName(bps)} ${dir} ${what}: ${f(v)} ms > ${f(goal)} ms`));
        check('(a) median', a.median, frame + 5);
        check('(b) median', b.median, frame + 10);
        if (bps <= 1e6) check('(c) median', cc.median, 100);
        if (!(Math.abs(rate / bps - 1) <= 0.07)) failures.push(`${speedName(bps)} ${dir}: tree rate ${(rate / 1e6).toFixed(3)} Mbit/s, ${((rate / bps - 1) * 100).toFixed(1)} % off`);
      }
      if (measurable) expect(failures).toEqual([]);
    }, 900_000);
  }
});
