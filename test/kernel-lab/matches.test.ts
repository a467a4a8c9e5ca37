// Kernel lab: the compiled output this host's kernel cannot run, run on Debian's 6.1 kernel
// under qemu. Each policy below is compiled by the real CLI on the host
// (`node bin/qospolicy.js compile`); for each case its sh script runs inside the router
// namespace of a small site in the VM (matches-lab.ts, rebuilt per case), traffic crosses the
// router, and tc's counters say which class it landed in:
//
//   1. `match mark` on an egress tree and in a shared egress group (u32 mark keys), marks
//      set by iptables in FORWARD and POSTROUTING;
//   2. `match connmark` on an IFB ingress tree: the compiled CONNMARK --save-mark in
//      POSTROUTING and `action connmark` before the mirred; a flow's first packet is
//      unmarked (QP3007);
//   3. leaf fq_codel, sfq, cake and `fair flows` (fq_codel), read back with their options;
//   4. `fair hosts on PREFIX`: a host with 8 flows and a host with 1 get equal shares;
//   5. IPv6 port and source-prefix matches.
//
// One VM for the file (~2 minutes with the fairness runs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_HOOK_TIMEOUT, LabVm, labGate, labPaths, prepareLab, INSTRUCTION_CLOCK } from './vm.js';
import { ADDR, type Compiled, compileCli, type Counter, delta, parseBacklogs, sections, Site, TOPOLOGY } from './matches-lab.js';
import { parseClassCounters } from '../../src/state/index.js';

const t0 = Date.now();
const lab = await prepareLab();
const ready = labGate(lab);

const MARK_CLASSES = `
    class marked rate 2mbit ceil 8mbit prio 1 { match mark 0x10/0xf0 }
    class rest rate 6mbit ceil 8mbit default`;

const POLICIES: Record<string, string> = {
  'mark-egress': `interface wan0 {\n  egress rate 8mbit {${MARK_CLASSES}\n  }\n}\n`,
  'mark-shared': `shared up egress on wan0 rate 8mbit {${MARK_CLASSES}\n}\n`,
  connmark: `interface wan0 {
  ingress rate 8mbit {
    class marked rate 2mbit ceil 8mbit prio 1 { match connmark 0x20 }
    class rest rate 6mbit ceil 8mbit default
  }
}
`,
  leaves: `interface wan0 {
  egress rate 8mbit {
    class c_codel rate 2mbit ceil 8mbit prio 1 { match udp dport 5001; leaf fq_codel target 5ms }
    class c_sfq rate 2mbit ceil 8mbit prio 2 { match udp dport 5002; leaf sfq perturb 10 }
    class c_cake rate 2mbit ceil 8mbit prio 3 { match udp dport 5003; leaf cake besteffort }
    class c_flows rate 1mbit ceil 8mbit prio 4 fair flows { match tcp dport 5201 }
    class rest rate 1mbit ceil 8mbit default
  }
}
`,
  // A /28 keeps the script short under TCG (16 host classes; a /24's 256 take ~40 s to apply).
  'fair-hosts': `interface wan0 {
  ingress rate 6mbit {
    class lan rate 5mbit ceil 6mbit fair hosts on 10.1.0.0/28
    class rest rate 1mbit ceil 6mbit default
  }
}
`,
  'one-class': `interface wan0 {
  ingress rate 6mbit {
    class lan rate 5mbit ceil 6mbit { match dst 10.1.0.0/28 }
    class rest rate 1mbit ceil 6mbit default
  }
}
`,
  ipv6: `interface lan0 {
  ingress rate 8mbit {
    class by_port rate 2mbit ceil 8mbit prio 1 { match udp dport 5301 }
    class by_src rate 2mbit ceil 8mbit prio 2 { match src fd00:1::100/120 }
    class rest rate 4mbit ceil 8mbit default
  }
}
`,
};

/** Figures printed when the file ends. */
const figures: string[] = [];
const note = (s: string) => void figures.push(s);

/** Counters of the named classes between two `tc -s class show` outputs. */
function deltas(c: Compiled, before: string, after: string, ...names: string[]): Record<string, Counter> {
  const a = parseClassCounters(before);
  const b = parseClassCounters(after);
  return Object.fromEntries(names.map((n) => [n, delta(a.get(c.classid(n)), b.get(c.classid(n)))]));
}

/** iperf3 -J → bytes and bits/s the receiver counted. */
function received(json: string): { bytes: number; bps: number } {
  const r = (JSON.parse(json) as { end: { sum_received: { bytes: number; bits_per_second: number } } }).end.sum_received;
  return { bytes: r.bytes, bps: r.bits_per_second };
}

const mbit = (bps: number) => (bps / 1e6).toFixed(2);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

const HOST_A = `lan › ${ADDR.client.v4}`;
const HOST_B = `lan › ${ADDR.client2.v4}`;

interface TwoHosts {
  /** HTB-counted rates of host A's and B's classes over the window, bits/s (fair hosts only). */
  htb?: { a: number; b: number };
  /** iperf3 receiver goodput, bits/s. */
  a: number;
  b: number;
  /** TCP flows host B sent (A sends 8). */
  flowsB: number;
  /** Largest backlog seen in A's and B's leaf queues (fair hosts only). */
  backlog?: { a: Counter; b: Counter };
}

describe.skipIf(!ready)('compiled matches and leaves on the lab kernel (Debian 6.1 under qemu)', { timeout: 90_000 }, () => {
  let vm: LabVm | undefined;
  let site: Site;

  beforeAll(async () => {
    // Compile on the host while the VM boots.
    const [booted, compiled] = await Promise.all([
      // The guest clock counts instructions (INSTRUCTION_CLOCK, vm.ts): under plain TCG it
      // runs on while qemu waits for the host's CPU, and HTB, woken late, fills less than its
      // rate on a loaded machine (5.39 of 6 mbit once in a full run).
      LabVm.boot(labPaths(lab), { files: { '/root/topology.sh': TOPOLOGY }, qemuArgs: INSTRUCTION_CLOCK, bootTimeoutMs: 240_000 }),
      Promise.all(Object.entries(POLICIES).map(async ([name, text]) => [name, await compileCli(name, text)] as const)),
    ]);
    vm = booted;
    site = new Site(vm, Object.fromEntries(compiled));
  }, BOOT_HOOK_TIMEOUT);

  afterAll(async () => {
    const boot = vm ? `boot ${vm.bootMs} ms` : 'no VM';
    await vm?.close();
    console.log(`kernel lab matches: ${boot}, file wall time ${Date.now() - t0} ms\n  ${figures.join('\n  ')}`);
  }, 30_000);

  /** Marks (FORWARD and POSTROUTING, both families), datagrams client → server, counters of DEV. */
  async function markTraffic(c: Compiled, dev: string) {
    const out = sections(
      await site.sh(`
        ip netns exec router sh -ec '
          iptables -t mangle -A FORWARD -p udp --dport 5001 -j MARK --set-mark 0x13     # 0x13 & 0xf0 = 0x10
          iptables -t mangle -A POSTROUTING -p udp --dport 5002 -j MARK --set-mark 0x23 # 0x20: not this class
          ip6tables -t mangle -A POSTROUTING -p udp --dport 5001 -j MARK --set-mark 0x1f'
        echo @@before; tc -n router -s class show dev ${dev}
        udp client ${ADDR.server.v4} 5001 5; udp client ${ADDR.server.v4} 5002 4; udp client ${ADDR.server.v4} 5003 3
        udp client ${ADDR.server.v6} 5001 2; udp client ${ADDR.server.v6} 5003 1
        echo @@after; tc -n router -s class show dev ${dev}
      `),
    );
    return deltas(c, out.before!, out.after!, 'marked', 'rest');
  }

  it('1. match mark on an egress tree: iptables marks (masked) pick the class, IPv4 and IPv6', async () => {
    const c = await site.apply('mark-egress');
    expect(c.script).toMatch(/match mark '0x00000010' '0x000000f0'/);
    const d = await markTraffic(c, 'wan0');
    note(`mark, egress tree: marked +${d.marked!.packets} pkt (5 IPv4 0x13 + 2 IPv6 0x1f), rest +${d.rest!.packets} pkt (4 marked 0x23, 4 unmarked, strays)`);
    expect(d.marked!.packets).toBe(7);
    expect(d.rest!.packets).toBeGreaterThanOrEqual(8);
  });

  it('1b. match mark in a shared egress group: the mark survives the clsact egress mirred into the ifb', async () => {
    const c = await site.apply('mark-shared');
    expect(c.script).toMatch(/tc filter add dev 'wan0' egress .*mirred egress redirect dev 'ifb0'/);
    const d = await markTraffic(c, 'ifb0');
    note(`mark, shared egress group (ifb0): marked +${d.marked!.packets} pkt, rest +${d.rest!.packets} pkt`);
    expect(d.marked!.packets).toBe(7);
    expect(d.rest!.packets).toBeGreaterThanOrEqual(8);
  });

  it('2. match connmark on an IFB ingress tree: save in POSTROUTING, action connmark before mirred; first packet unmarked', async () => {
    const c = await site.apply('connmark');
    // The compiler warns about exactly what the counters show below.
    expect(c.warnings).toMatch(/warning QP3007: 'connmark' in class 'marked' \(wan0 ingress\): the first packet of each flow has no mark yet/);
    expect(c.script).toMatch(/\biptables -t mangle -A 'qospolicy-post' -j CONNMARK --save-mark/);
    expect(c.script).toMatch(/\bip6tables -t mangle -A 'qospolicy-post' -j CONNMARK --save-mark/);
    expect(c.script).toMatch(/tc filter add dev 'wan0' ingress .* action connmark action mirred egress redirect dev 'ifb0'/);

    const out = sections(
      await site.sh(
        `
        C="ip netns exec client"
        ip netns exec router sh -ec '
          # The script is idempotent: a second run leaves one rule and one filter of each.
          sh /root/connmark.sh
          echo @@rules; iptables-save -t mangle; ip6tables-save -t mangle; tc filter show dev wan0 ingress
          for ipt in iptables ip6tables; do
            # Client-initiated downloads from port 5201: marked on the way out (FORWARD -i lan0).
            $ipt -t mangle -A FORWARD -i lan0 -p tcp --dport 5201 -j MARK --set-mark 0x20
            # Server-initiated UDP to the client port 6000: marked on the way in, after the ifb.
            $ipt -t mangle -A FORWARD -i wan0 -p udp --dport 6000 -j MARK --set-mark 0x20
          done'
        # Drop, not refuse: the datagrams stay one flow.
        $C sh -ec 'iptables -A INPUT -p udp --dport 6000 -j DROP; ip6tables -A INPUT -p udp --dport 6000 -j DROP'
        snap() { drain ifb0; echo "@@$1"; tc -n router -s class show dev ifb0; }
        snap s0; udpflow server ${ADDR.client.v4} 6000 5
        snap s1; udpflow server ${ADDR.client.v6} 6000 5
        snap s2; iperf_server 5201; echo @@dl4; $C iperf3 -c ${ADDR.server.v4} -p 5201 -R -t 1 -J
        snap s3; iperf_server 5201; echo @@dl6; $C iperf3 -c ${ADDR.server.v6} -p 5201 -R -t 1 -J
        snap s4; iperf_server 5202; echo @@dl4u; $C iperf3 -c ${ADDR.server.v4} -p 5202 -R -t 1 -J
        snap s5
        echo @@conntrack; ip netns exec router cat /proc/net/nf_conntrack
      `,
        90_000,
      ),
    );
    expect(out.rules!.match(/^-A qospolicy-post -j CONNMARK --save-mark/gm), out.rules).toHaveLength(2);
    expect(out.rules!.match(/^-A POSTROUTING -j qospolicy-post$/gm), out.rules).toHaveLength(2);
    expect(out.rules!.match(/action order 1: connmark/g), out.rules).toHaveLength(1);

    const udp4 = deltas(c, out.s0!, out.s1!, 'marked', 'rest');
    const udp6 = deltas(c, out.s1!, out.s2!, 'marked', 'rest');
    note(`connmark, 5 datagrams server → client, one flow: IPv4 marked +${udp4.marked!.packets} rest +${udp4.rest!.packets}; IPv6 marked +${udp6.marked!.packets} rest +${udp6.rest!.packets}`);
    for (const d of [udp4, udp6]) {
      // The first packet met no conntrack entry at tc ingress: default. The next 4 were restored.
      expect(d.marked!.packets).toBe(4);
      expect(d.rest!.packets).toBeGreaterThanOrEqual(1);
    }

    const dl = [
      { what: 'IPv4 download from :5201 (marked)', iperf: received(out.dl4!), d: deltas(c, out.s2!, out.s3!, 'marked', 'rest'), to: 'marked', other: 'rest' },
      { what: 'IPv6 download from :5201 (marked)', iperf: received(out.dl6!), d: deltas(c, out.s3!, out.s4!, 'marked', 'rest'), to: 'marked', other: 'rest' },
      { what: 'IPv4 download from :5202 (unmarked)', iperf: received(out.dl4u!), d: deltas(c, out.s4!, out.s5!, 'marked', 'rest'), to: 'rest', other: 'marked' },
    ];
    for (const x of dl) {
      const hit = x.d[x.to]!;
      const miss = x.d[x.other]!;
      note(`connmark, ${x.what}: ${mbit(x.iperf.bps)} Mbit/s goodput; ${x.to} +${hit.bytes} B / ${hit.packets} pkt, ${x.other} +${miss.bytes} B / ${miss.packets} pkt`);
      expect(x.iperf.bytes).toBeGreaterThan(100_000);
      // HTB counts whole frames: at least the payload the receiver got. Even the SYN-ACK is
      // marked (the client's SYN saved the mark), so the other class gets strays only.
      expect(hit.bytes).toBeGreaterThanOrEqual(x.iperf.bytes);
      expect(miss.bytes).toBeLessThan(hit.bytes / 100);
    }

    // What conntrack holds (mark=32 is 0x20).
    const ct = out.conntrack!.split('\n');
    const flows = (re: RegExp) => ct.filter((l) => re.test(l));
    expect(flows(/ udp .* dport=6000 /), out.conntrack).toHaveLength(2);
    expect(flows(/ tcp .* dport=5201 /).length, out.conntrack).toBeGreaterThan(0);
    for (const l of flows(/dport=6000 |dport=5201 /)) expect(l).toMatch(/ mark=32 /);
    expect(flows(/ tcp .* dport=5202 /).length, out.conntrack).toBeGreaterThan(0);
    for (const l of flows(/dport=5202 /)) expect(l).toMatch(/ mark=0 /);
  });

  it('3. leaf fq_codel, sfq, cake and fair flows: accepted, read back with their options, traffic passes', async () => {
    const c = await site.apply('leaves');
    const out = sections(
      await site.sh(`
        echo @@before; tc -n router -s class show dev wan0
        udp client ${ADDR.server.v4} 5001 3; udp client ${ADDR.server.v6} 5002 3; udp client ${ADDR.server.v4} 5003 3
        iperf_server 5201; echo @@up; ip netns exec client iperf3 -c ${ADDR.server.v4} -p 5201 -P 4 -t 3 -O 1 -J
        drain wan0; echo @@after; tc -n router -s class show dev wan0
        echo @@qdiscs; tc -n router -s -j qdisc show dev wan0
      `),
    );
    interface Q {
      kind: string;
      parent?: string;
      options?: Record<string, unknown>;
      packets?: number;
      new_flow_count?: number;
    }
    const qdiscs = JSON.parse(out.qdiscs!) as Q[];
    const leaf = (cls: string) => {
      const q = qdiscs.find((x) => x.parent === c.classid(cls));
      if (!q) throw new Error(`no leaf qdisc under ${cls} (${c.classid(cls)}): ${out.qdiscs}`);
      return q;
    };
    expect(leaf('c_codel').kind).toBe('fq_codel');
    // tc prints fq_codel's target in microseconds as the kernel keeps it (5ms → 4999).
    expect(leaf('c_codel').options!.target as number).toBeGreaterThanOrEqual(4990);
    expect(leaf('c_codel').options!.target as number).toBeLessThanOrEqual(5000);
    expect(leaf('c_sfq').kind).toBe('sfq');
    expect(leaf('c_sfq').options!.perturb).toBe(10);
    expect(leaf('c_cake').kind).toBe('cake');
    expect(leaf('c_cake').options!.diffserv).toBe('besteffort');
    expect(leaf('c_flows').kind).toBe('fq_codel');
    expect(leaf('rest').kind).toBe('bfifo'); // the default leaf

    const d = deltas(c, out.before!, out.after!, 'c_codel', 'c_sfq', 'c_cake', 'c_flows', 'rest');
    const up = received(out.up!);
    note(
      `leaves: fq_codel +${d.c_codel!.packets} pkt, sfq +${d.c_sfq!.packets} (IPv6), cake +${d.c_cake!.packets}; fair flows (fq_codel): 4 TCP flows ${mbit(up.bps)} Mbit/s goodput (ceil 8mbit), ${leaf('c_flows').new_flow_count} new flows counted`,
    );
    for (const cls of ['c_codel', 'c_sfq', 'c_cake']) {
      expect(d[cls]!.packets, cls).toBe(3);
      expect(leaf(cls).packets, cls).toBe(3);
    }
    // Each of the 4 data flows and iperf3's control connection is a flow of its own to fq_codel.
    expect(leaf('c_flows').new_flow_count).toBeGreaterThanOrEqual(5);
    expect(d.c_flows!.bytes).toBeGreaterThanOrEqual(up.bytes);
    // Traffic passes, under the ceiling (goodput is at most 0.956 of the frame rate).
    expect(up.bps).toBeGreaterThan(8e6 * 0.5);
    expect(up.bps).toBeLessThan(8e6 * 0.956 * 1.03);
  });

  /**
   * Host A (10.1.0.2) downloads with 8 flows, host B (10.1.0.3) with 1, at once, through the
   * ifb of wan0's ingress tree. `mtu`: the server sends MTU-sized packets (gso_max_segs 1);
   * otherwise in TSO/GSO packets as large as wan0's GRO would merge them under the policy's
   * gro_max_size (up to 64 KiB where the policy sets none; 1514 bytes for this 6mbit tree).
   */
  /**
   * The gro_max_size the compiled script gives `dev` (65536, the kernel's default, if none):
   * veth has no GRO, so the server's TSO stands for what wan0's GRO would merge on a router.
   */
  const groOf = (c: Compiled, dev: string) => Number(new RegExp(`link set dev '?${dev}'? [^\\n]*gro_max_size'? '?(\\d+)`).exec(c.script)?.[1] ?? 65536);

  async function twoHosts(c: Compiled, opts: { mtu: boolean; seconds: number; flowsB?: number }): Promise<TwoHosts> {
    const C = 'ip netns exec client';
    const fair = [...c.paths.values()].some((p) => p.endsWith(` › ${HOST_A}`));
    const out = sections(
      await site.sh(
        `
        ${opts.mtu ? 'ip netns exec server ip link set dev eth0 gso_max_segs 1' : `ip netns exec server ip link set dev eth0 gso_max_size ${groOf(c, 'wan0')}`}
        iperf_server 5201; iperf_server 5202
        ${C} iperf3 -c ${ADDR.server.v4} -B ${ADDR.client.v4} -p 5201 -P 8 -R -t ${opts.seconds} -J >/root/a.json &
        ${C} iperf3 -c ${ADDR.server.v4} -B ${ADDR.client2.v4} -p 5202 -P ${opts.flowsB ?? 1} -R -t ${opts.seconds} -J >/root/b.json &
        snap() { echo "@@t$1"; echo $EPOCHREALTIME; echo "@@c$1"; tc -n router -s class show dev ifb0; }
        start=\${EPOCHREALTIME/./}; end=$((start + ${opts.seconds - 1} * 1000000))
        sleep 2; snap 0
        i=0; while [ \${EPOCHREALTIME/./} -lt $end ]; do sleep 0.4; i=$((i + 1)); echo "@@q$i"; tc -n router -s qdisc show dev ifb0; done
        snap 1
        wait
        echo @@a; cat /root/a.json; echo @@b; cat /root/b.json
      `,
        (opts.seconds + 40) * 1000,
      ),
    );
    const r: TwoHosts = { a: received(out.a!).bps, b: received(out.b!).bps, flowsB: opts.flowsB ?? 1 };
    if (fair) {
      const s = Number(out.t1) - Number(out.t0);
      const d = deltas(c, out.c0!, out.c1!, HOST_A, HOST_B);
      r.htb = { a: (d[HOST_A]!.bytes * 8) / s, b: (d[HOST_B]!.bytes * 8) / s };
      const max = (cls: string): Counter => {
        const seen = Object.entries(out)
          .filter(([k]) => /^q\d+$/.test(k))
          .map(([, text]) => parseBacklogs(text).get(c.classid(cls)) ?? { bytes: 0, packets: 0 });
        return seen.reduce((m, x) => (x.bytes > m.bytes ? x : m), { bytes: 0, packets: 0 });
      };
      r.backlog = { a: max(HOST_A), b: max(HOST_B) };
    }
    return r;
  }

  const shareA = (x: { a: number; b: number }) => x.a / (x.a + x.b);
  const describeRun = (label: string, r: TwoHosts) =>
    `${label}: ` +
    (r.htb ? `HTB-counted A (8 flows) ${mbit(r.htb.a)} / B (${r.flowsB} flow${r.flowsB > 1 ? 's' : ''}) ${mbit(r.htb.b)} Mbit/s, A's share ${pct(shareA(r.htb))}; ` : '') +
    `goodput A ${mbit(r.a)} / B ${mbit(r.b)} Mbit/s, A's share ${pct(shareA(r))}` +
    (r.backlog ? `; largest leaf backlog A ${r.backlog.a.bytes} B (${r.backlog.a.packets} p), B ${r.backlog.b.bytes} B (${r.backlog.b.packets} p)` : '');

  // The packets a router's wan0 passes on (GRO under the policy's gro_max_size). One run serves tests 4 and 4c.
  let gsoRun: Promise<TwoHosts> | undefined;
  const fairGso = () =>
    (gsoRun ??= (async () => {
      const c = await site.apply('fair-hosts');
      const r = await twoHosts(c, { mtu: false, seconds: 8 });
      note(describeRun('fair hosts, TSO/GSO packets', r));
      return r;
    })());

  it('4. fair hosts on a prefix: a host with 8 flows and a host with 1 get equal shares (±10 %)', async () => {
    const r = await fairGso();
    // Equal shares within ±10 %: each host gets 45–55 % of what the two got, as HTB counts it
    // and as the receivers count it; together they fill the tree's 6mbit.
    // This found a compiler bug, since fixed (backends/htb.ts quantumFor): each host class
    // got quantum rate/80 = 3906 bytes, below the size of one TSO/GRO packet (up to 64 KiB);
    // HTB's DRR then sends one packet per class per round whatever its size, so the host
    // whose packets are bigger gets more. Measured then: A's share 23–26 % (B's one flow
    // sent ~64 KiB packets, A's eight ~34 KiB); with the quantum raised to 65536: 50–51 %.
    expect(shareA(r.htb!)).toBeGreaterThanOrEqual(0.45);
    expect(shareA(r.htb!)).toBeLessThanOrEqual(0.55);
    expect(shareA(r)).toBeGreaterThanOrEqual(0.45);
    expect(shareA(r)).toBeLessThanOrEqual(0.55);
    expect(r.htb!.a + r.htb!.b).toBeGreaterThan(6e6 * 0.9);
  });

  it('4b. fair hosts with MTU-sized packets: equal shares (±10 %); one class without fair hosts: unequal', async () => {
    // B sends two flows here, and the figure is the median of three runs by A's HTB-counted
    // share: under TCG, at MTU size, a single flow often cannot keep its queue filled (its
    // backlog peaked at 2–3 packets while A's held 16), and A then rightly takes the slack:
    // A's share 54–58 % with one flow on a loaded host (55.8 % once in CI).
    const c = await site.apply('fair-hosts');
    const runs: TwoHosts[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await twoHosts(c, { mtu: true, seconds: 7, flowsB: 2 }));
      note(describeRun(`fair hosts, MTU-sized packets, run ${i + 1} of 3`, runs[i]!));
    }
    const fair = runs.sort((x, y) => shareA(x.htb!) - shareA(y.htb!))[1]!;
    note(describeRun('fair hosts, MTU-sized packets, the median run', fair));
    const control = await twoHosts(await site.apply('one-class'), { mtu: true, seconds: 6, flowsB: 2 });
    note(describeRun('control, one class (pfifo) for both hosts, MTU-sized packets', control));
    expect(shareA(fair.htb!)).toBeGreaterThanOrEqual(0.45);
    expect(shareA(fair.htb!)).toBeLessThanOrEqual(0.55);
    expect(shareA(fair)).toBeGreaterThanOrEqual(0.45);
    expect(shareA(fair)).toBeLessThanOrEqual(0.55);
    // Near the tree's 6mbit (under TCG one packet at a time costs: 5.1–5.9 measured).
    expect(fair.htb!.a + fair.htb!.b).toBeGreaterThan(6e6 * 0.8);
    expect(fair.htb!.a + fair.htb!.b).toBeLessThan(6e6 * 1.05);
    // Without fair hosts, 8 flows take most of one FIFO from 2.
    expect(shareA(control)).toBeGreaterThan(0.7);
  });

  it('4c. a leaf queue holds about 100 ms at the class ceiling (docs), also with TSO/GSO packets', async () => {
    const r = await fairGso();
    // docs/language.md: the default leaf holds about 100 ms at the class's ceiling, at least two
    // 64 KiB packets. The host classes' ceiling is 6mbit: 100 ms is 75 000 bytes; allow twice
    // that. (It failed while the default was a 64-packet pfifo: a TSO/GRO packet is up to
    // 64 KiB, and host A's queue held ~1 MB, over 1.3 s at 6mbit. Now a byte-limited bfifo.)
    const limit = 2 * (6e6 / 8) * 0.1;
    expect(r.backlog!.a.bytes).toBeLessThanOrEqual(limit);
    expect(r.backlog!.b.bytes).toBeLessThanOrEqual(limit);
  });

  it('5. IPv6: a port match and a source-prefix match classify IPv6 (ports IPv4 too)', async () => {
    const c = await site.apply('ipv6');
    const C = 'ip netns exec client';
    const out = sections(
      await site.sh(`
        echo @@before; tc -n router -s class show dev ifb0
        udp client ${ADDR.server.v6} 5301 4; udp client ${ADDR.server.v4} 5301 3
        ${C} ping -6 -c 3 -i 0.2 -I ${ADDR.client2.v6} ${ADDR.server.v6} >/dev/null   # from the prefix
        ${C} ping -6 -c 2 -i 0.2 -I ${ADDR.client.v6} ${ADDR.server.v6} >/dev/null    # outside it
        ${C} ping -4 -c 2 -i 0.2 -I ${ADDR.client2.v4} ${ADDR.server.v4} >/dev/null   # IPv4: the prefix is IPv6
        echo @@after; tc -n router -s class show dev ifb0
      `),
    );
    const d = deltas(c, out.before!, out.after!, 'by_port', 'by_src', 'rest');
    note(`IPv6: by_port +${d.by_port!.packets} pkt (4 IPv6 + 3 IPv4), by_src +${d.by_src!.packets} (3 echo requests from fd00:1::101), rest +${d.rest!.packets}`);
    expect(d.by_port!.packets).toBe(7);
    expect(d.by_src!.packets).toBe(3);
    expect(d.rest!.packets).toBeGreaterThanOrEqual(4);
  });
});
