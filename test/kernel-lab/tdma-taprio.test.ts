// TDMA on taprio, proven in the kernel lab: the real compiler's boot script is applied to a
// multi-queue veth in Debian's 6.1 kernel, UDP traffic for every slot goes through it, and
// the peer's receiver stamps each arrival (SO_TIMESTAMPNS). Every slot's packets must leave
// inside its own window.
//
// How arrival times relate to taprio's schedule: taprio runs on CLOCK_TAI with base-time 0,
// so frame k opens at TAI k × 100 ms. The receiver's stamps are CLOCK_REALTIME of the same
// kernel (same VM, same clock), and CLOCK_TAI = CLOCK_REALTIME + the TAI offset, a whole
// number of seconds; 100 ms divides one second, so `realtime mod 100 ms` is the place in the
// frame. The VM's TAI offset is set to 37 s (TAI−UTC today) before taprio starts, so the
// tests do not pass merely because the offset happens to be 0. See tdma-lab.ts.
//
// Thresholds (the issue's): per slot ≥ 99 % inside its window widened by a 1 ms guard,
// ≤ 0.5 % in closed time, none more than 1 ms before its window opens; taprio's sent
// counter and the receiver agree within 5 %. The stamp is taken when the packet enters the
// peer's backlog, right after taprio released it, so it measures the gate and not the
// receiver's scheduling; late openings under emulation delay packets but cannot move
// them outside their window, since taprio checks the gate's close time with the clock.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_HOOK_TIMEOUT, LabVm, labGate, labPaths, prepareLab } from './vm.js';
import { buildProbe, compilePolicy, describeVerdicts, judge, MS, parseTraffic, probeGate, senderStalls, trafficScript, vethSetup, type Probe, type Window } from './tdma-lab.js';

const t0 = Date.now();
const lab = await prepareLab();
const probeBuild = await buildProbe();
const ready = labGate(lab) && probeGate(probeBuild);
if (!ready && !(probeBuild instanceof Error)) rmSync(probeBuild.dir, { recursive: true, force: true });

const THREE_SLOTS = fileURLToPath(new URL('./fixtures/tdma/three-slots.pol', import.meta.url));
const BACKHAUL = fileURLToPath(new URL('../../policies/wireless-backhaul.pol', import.meta.url));
const FRAME = 100 * MS;

/** A root qdisc's own counter of packets sent, from `tc -s -j qdisc show`. */
export async function rootSent(vm: LabVm, dev: string, kind: string): Promise<number> {
  const r = await vm.run(`tc -s -j qdisc show dev ${dev}`, { check: true });
  const q = (JSON.parse(r.stdout) as { kind: string; root?: boolean; packets?: number }[]).find((x) => x.kind === kind && x.root);
  if (!q) throw new Error(`no ${kind} root on ${dev}:\n${r.stdout}`);
  return q.packets ?? 0;
}

interface Measured {
  verdicts: ReturnType<typeof judge>;
  sent: number;
  received: number;
  taprioSent: number;
  log: string;
}

describe.skipIf(!ready)('TDMA on taprio (kernel lab, Debian 6.1)', { timeout: 120_000 }, () => {
  let vm: LabVm | undefined;
  const the = () => {
    if (!vm) throw new Error('the VM did not boot');
    return vm;
  };
  const probe = probeBuild as Probe;
  let slotsSh = '';
  let backhaulSh = '';
  const figures: string[] = [];

  beforeAll(async () => {
    slotsSh = await compilePolicy(THREE_SLOTS, 'sh');
    backhaulSh = await compilePolicy(BACKHAUL, 'sh');
    vm = await LabVm.boot(labPaths(lab), {
      modules: ['veth'],
      files: {
        '/root/udp-probe': { host: probe.path, mode: 0o755 },
        '/root/three-slots.sh': slotsSh,
        '/root/wireless-backhaul.sh': backhaulSh,
      },
    });
    // TAI = REALTIME + 37 s from here on (before any taprio starts).
    await the().run('/root/udp-probe tai 37 && /root/udp-probe now', { check: true });
  }, BOOT_HOOK_TIMEOUT);

  afterAll(async () => {
    await vm?.close();
    if (probeGate(probeBuild, false)) rmSync(probeBuild.dir, { recursive: true, force: true });
    console.log(`tdma-taprio: file wall time ${Date.now() - t0} ms\n${figures.join('\n')}`);
  }, 30_000);

  /** Applies a compiled script (bash: busybox's sh would run its own tc applet), then measures. */
  async function measure(o: { dev: string; script: string; targets: string[]; windows: Window[]; intervalUs: number; durationMs: number }): Promise<Measured> {
    const apply = await the().run(`bash ${o.script}`);
    expect(apply.code, `${o.script}:\n${apply.stderr}`).toBe(0);
    // Warm-up: the first packets through new code paths are slow under TCG (translation).
    await the().run(`/root/udp-probe send 1000 300 ${o.targets.join(' ')} >/dev/null; sleep 0.25`, { check: true });
    const before = await rootSent(the(), o.dev, 'taprio');
    const r = await the().run(trafficScript(o), { check: true, timeoutMs: o.durationMs + 30_000 });
    const after = await rootSent(the(), o.dev, 'taprio');
    const t = parseTraffic(r.stdout);
    const verdicts = judge(t.arrivals, o.windows, FRAME, MS, t.base);
    const sent = [...t.sent.values()].reduce((s, x) => s + x.count, 0);
    const stalls = senderStalls(t.arrivals, o.intervalUs * 1000);
    const log = `${describeVerdicts(verdicts)}\nVM stalls (send gaps over 5 ms): ${stalls.count}, longest ${stalls.longestMs.toFixed(1)} ms`;
    const m = { verdicts, sent, received: t.arrivals.length, taprioSent: after - before, log };
    return m;
  }

  function expectGated(m: Measured, label: string): void {
    const all = m.verdicts.reduce((s, v) => s + v.packets, 0);
    figures.push(`${label}: sent ${m.sent}, taprio sent ${m.taprioSent}, received ${m.received}\n${m.log}`);
    for (const v of m.verdicts) {
      expect(v.packets, `${label} ${v.name}: packets received\n${m.log}`).toBeGreaterThan(0.9 * (m.sent / m.verdicts.length));
      expect(v.inside / v.packets, `${label} ${v.name}: share inside its window ±1 ms\n${m.log}`).toBeGreaterThanOrEqual(0.99);
      expect(v.closed / v.packets, `${label} ${v.name}: share in closed time\n${m.log}`).toBeLessThanOrEqual(0.005);
      expect(v.early, `${label} ${v.name}: more than 1 ms before its window\n${m.log}`).toBe(0);
    }
    expect(all).toBe(m.received);
    // taprio's counter and the receiver agree.
    expect(m.received / m.taprioSent, `received ${m.received} of taprio's ${m.taprioSent}`).toBeGreaterThanOrEqual(0.95);
    expect(m.received).toBeLessThanOrEqual(m.taprioSent);
  }

  it('the compiled script adds the clsact hook and its skbedit filters before taprio', () => {
    // On 6.1 taprio stops sending for good when a clsact is added after it (measured below).
    for (const sh of [slotsSh, backhaulSh]) {
      const lines = sh.split('\n');
      const clsact = lines.findIndex((l) => /tc qdisc add dev '\S+' clsact/.test(l));
      const lastFilter = lines.map((l) => /tc filter add dev '\S+' egress .*skbedit priority/.test(l)).lastIndexOf(true);
      const taprio = lines.findIndex((l) => / root handle '100:' taprio /.test(l));
      expect(clsact).toBeGreaterThan(0);
      expect(lastFilter).toBeGreaterThan(clsact);
      expect(taprio).toBeGreaterThan(lastFilter);
    }
    expect(slotsSh).toMatch(/base-time '0' sched-entry 'S' '01' '30000000' sched-entry 'S' '00' '5000000' sched-entry 'S' '02' '30000000' sched-entry 'S' '00' '5000000' sched-entry 'S' '04' '30000000' cycle-time '100000000' clockid 'CLOCK_TAI'/);
  });

  it('three 30 ms slots of a 100 ms frame: each slot’s packets leave in its own window', async () => {
    await the().run(vethSetup('qv0', { txq: 4 }), { check: true });
    const windows: Window[] = [
      { name: 'a (0–30 ms, udp 5001)', at: 0, length: 30 * MS },
      { name: 'b (35–65 ms, udp 5002)', at: 35 * MS, length: 30 * MS },
      { name: 'c (70–100 ms, udp 5003)', at: 70 * MS, length: 30 * MS },
    ];
    const m = await measure({
      dev: 'qv0',
      script: '/root/three-slots.sh',
      targets: ['10.9.0.2:5001', '10.9.0.2:5002', '10.9.0.2:5003'],
      windows,
      intervalUs: 1000,
      durationMs: 4000,
    });
    expectGated(m, 'three-slots.pol');
  });

  it('policies/wireless-backhaul.pol: beacon, north, east and south leave in their windows', async () => {
    await the().run('ip netns del peer; ip link del qv0; true');
    await the().run(
      vethSetup('radio0', {
        txq: 4,
        peerAddrs: ['10.61.0.2/22', '10.62.0.2/22', '10.63.0.2/22'],
        routes: ['10.61.0.0/22', '10.62.0.0/22', '10.63.0.0/22'],
      }),
      { check: true },
    );
    // The policy's windows (its header): beacon 0–4 ms (Babel, UDP 6696), north 5–30 ms,
    // east 31–56 ms, south 57–72 ms (by destination prefix); 72–100 ms closed.
    const windows: Window[] = [
      { name: 'beacon (0–4 ms, udp 6696)', at: 0, length: 4 * MS },
      { name: 'north (5–30 ms, 10.61.0.0/22)', at: 5 * MS, length: 25 * MS },
      { name: 'east (31–56 ms, 10.62.0.0/22)', at: 31 * MS, length: 25 * MS },
      { name: 'south (57–72 ms, 10.63.0.0/22)', at: 57 * MS, length: 15 * MS },
    ];
    const m = await measure({
      dev: 'radio0',
      script: '/root/wireless-backhaul.sh',
      targets: ['10.9.0.2:6696', '10.61.0.2:5001', '10.62.0.2:5002', '10.63.0.2:5003'],
      windows,
      intervalUs: 1000,
      durationMs: 4000,
    });
    expectGated(m, 'wireless-backhaul.pol');
  });

  it('records the 6.1 pitfall the script order avoids: taprio stops for good after a later clsact or link down/up', async () => {
    // Informational (a kernel bug, not qospolicy's): logged, and asserted only as far as the
    // working order goes, so that a fixed Debian kernel does not fail the suite.
    const q = [
      'tc qdisc add dev radio0 root handle 100: taprio num_tc 2 map 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
      'queues 1@0 1@1 base-time 0 sched-entry S 03 50000000 sched-entry S 01 50000000 clockid CLOCK_TAI',
    ].join(' ');
    const send = '/root/udp-probe send 1000 300 10.9.0.2:5001 >/dev/null; sleep 0.2';
    const sent = () => rootSent(the(), 'radio0', 'taprio');
    await the().run(`tc qdisc del dev radio0 root; tc qdisc del dev radio0 clsact; tc qdisc del dev radio0 ingress; ${q}`, { check: true });
    await the().run(send, { check: true });
    const fresh = await sent();
    await the().run(`tc qdisc add dev radio0 clsact; ${send}`, { check: true });
    const afterClsact = (await sent()) - fresh;
    await the().run(`tc qdisc del dev radio0 clsact; ${send}`, { check: true });
    const afterDelete = (await sent()) - fresh - afterClsact;
    await the().run(`tc qdisc del dev radio0 root; ${q}; ${send}`, { check: true });
    const readded = await sent();
    await the().run(
      `ip link set radio0 down; ip link set radio0 up; ip neigh replace 10.9.0.2 lladdr "$(ip netns exec peer cat /sys/class/net/qv-peer/address)" dev radio0 nud permanent; ${send}`,
      { check: true },
    );
    const afterBounce = (await sent()) - readded;
    figures.push(
      `pitfall (300 packets offered each time): fresh taprio sent ${fresh}; after a clsact was added: ${afterClsact}; after it was deleted again: ${afterDelete}; ` +
        `re-added taprio: ${readded}; after link down/up: ${afterBounce}`,
    );
    expect(fresh).toBeGreaterThan(250);
    expect(readded).toBeGreaterThan(250);
  });
});
