// Latency under load: the delay a shaped class adds while TCP saturates the link.
//
// Probes at 10 Hz from client0 to the server, while one TCP flow fills the shaped direction:
// - (a) ping (ICMP), classified into a higher-prio class than the bulk flow;
// - (b) a UDP echo (udp-probe.mjs), in the same class (and the same leaf) as the bulk flow;
// - (c) the bulk flow itself: its sender's smoothed RTT (`ss -ti`, rtt:) sampled at 10 Hz.
// Each figure is the added delay: the sample minus the idle median of the same probe (for
// (c), minus the idle ping). Egress shapes client0 → server on wan0; ingress shapes
// server → client0 on wan0's ifb, so in both cases one leg of every probe is shaped.
//
// GSO/GRO: veth has no GRO (and this host has no ethtool to turn it on), so what arrives at
// the router is what the sender's TSO built. The lab's far hosts stand for the wire plus the
// router's receiving port: the sender's gso_max_size is set to what the policy asks of the
// shaped interface (gro_max_size for ingress: exactly the policy's setting; gso_max_size for
// egress: on a real router, forwarded uploads are merged by GRO on the LAN port, which the
// policy does not name — docs/language.md says to set gro_max_size there).
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Netns } from '../support/netns.js';
import type { Compiled } from './policy.js';
import type { Lab } from './topology.js';
import { classCounters, median } from './measure.js';

export const PROBE_HZ = 10;
const PROBE_SCRIPT = fileURLToPath(new URL('./udp-probe.mjs', import.meta.url));

export interface Stat {
  median: number;
  p95: number;
  n: number;
  lost: number;
}

export interface LatencyRun {
  direction: 'egress' | 'ingress';
  idle: { ping: number; udp: number };
  a: Stat;
  b: Stat;
  c: Stat;
  /** HTB-counted rate of the tree's root class over the window, bit/s. */
  treeRate: number;
  /** Receiver goodput of the bulk flow (iperf3), bit/s. */
  goodput: number;
}

export function stat(samples: Array<number | null>, base: number): Stat {
  const got = samples.filter((x): x is number => x !== null).map((x) => Math.max(0, x - base));
  const s = [...got].sort((x, y) => x - y);
  return { median: got.length ? median(got) : NaN, p95: s.length ? s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]! : NaN, n: got.length, lost: samples.length - got.length };
}

/** `ping -i 0.1`: the round trip of each reply in ms (null: no reply). */
async function ping(ns: Netns, host: string, count: number, args: string[] = []): Promise<Array<number | null>> {
  const r = await ns.run(['ping', '-n', ...args, '-i', String(1 / PROBE_HZ), '-c', String(count), '-W', '2', host], { reject: false });
  const out: Array<number | null> = new Array(count).fill(null);
  for (const m of String(r.stdout).matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g)) out[Number(m[1]) - 1] = Number(m[2]);
  return out;
}

async function udpProbe(ns: Netns, host: string, port: number, count: number): Promise<Array<number | null>> {
  const r = await ns.run(['node', PROBE_SCRIPT, 'probe', host, String(port), String(count), String(1000 / PROBE_HZ)]);
  return JSON.parse(String(r.stdout).trim()) as Array<number | null>;
}

/** The bulk flow's smoothed RTT (ms) as its sender's TCP sees it, sampled on a fixed schedule. */
async function bulkRtt(ns: Netns, filter: string[], count: number): Promise<Array<number | null>> {
  const out: Array<number | null> = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const r = await ns.run(['ss', '-H', '-t', '-i', '-n', 'state', 'established', ...filter], { reject: false });
    // One entry per connection (address line, then its info line): the data connection is
    // the one with the most bytes acknowledged (iperf3's control connection is idle).
    let best: { acked: number; rtt: number } | undefined;
    for (const m of String(r.stdout).matchAll(/rtt:([\d.]+)\/[\d.]+.*?bytes_acked:(\d+)/gs)) {
      const acked = Number(m[2]);
      if (!best || acked > best.acked) best = { acked, rtt: Number(m[1]) };
    }
    out.push(best?.rtt ?? null);
    await sleep(Math.max(0, start + (i + 1) * (1000 / PROBE_HZ) - performance.now()));
  }
  return out;
}

export interface LatencyOptions {
  direction: 'egress' | 'ingress';
  /** Seconds of TCP before the probes start (slow start, queue filling). */
  warm: number;
  /** Seconds the probes run. */
  window: number;
  /** iperf3 port (a server must listen on it at lab.server); the UDP echo port. */
  tcpPort: number;
  udpPort: number;
  /** More arguments of probe (a)'s ping, so that it reaches the higher-prio class (e.g. -Q 0xb8: DSCP EF). */
  pingArgs?: string[];
}

/** One measurement: idle probes, then the three probes under a saturating TCP flow. */
export async function latencyUnderLoad(lab: Lab, compiled: Compiled, o: LatencyOptions): Promise<LatencyRun> {
  const server = lab.server.v4;
  const idlePing = median((await ping(lab.client0.ns, server, 10, o.pingArgs)).filter((x): x is number => x !== null));
  const idleUdp = median((await udpProbe(lab.client0.ns, server, o.udpPort, 10)).filter((x): x is number => x !== null));

  const root = compiled.htbClass(`wan0 ${o.direction}`);
  const count = o.window * PROBE_HZ;
  const seconds = o.warm + o.window + 1;
  const argv = ['iperf3', '-c', server, '-p', String(o.tcpPort), '-t', String(seconds), '-O', String(o.warm), '-J', '--connect-timeout', '3000'];
  if (o.direction === 'ingress') argv.push('-R');
  const bulk = lab.client0.ns.run(argv, { reject: false, timeout: (seconds + 20) * 1000 });

  await sleep(o.warm * 1000);
  const before = (await classCounters(lab.router, root.dev)).get(root.classid)!;
  const t0 = performance.now();
  const sender = o.direction === 'egress' ? { ns: lab.client0.ns, filter: ['dport', '=', `:${o.tcpPort}`] } : { ns: lab.server.ns, filter: ['sport', '=', `:${o.tcpPort}`] };
  const [a, b, c] = await Promise.all([ping(lab.client0.ns, server, count, o.pingArgs), udpProbe(lab.client0.ns, server, o.udpPort, count), bulkRtt(sender.ns, sender.filter, count)]);
  const after = (await classCounters(lab.router, root.dev)).get(root.classid)!;
  const t1 = performance.now();
  const r = await bulk;
  const json = JSON.parse(String(r.stdout) || '{}') as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  const goodput = json.end?.sum_received?.bits_per_second;
  if (goodput === undefined) throw new Error(`iperf3 failed: ${json.error ?? String(r.stderr).slice(0, 300)}`);
  return {
    direction: o.direction,
    idle: { ping: idlePing, udp: idleUdp },
    a: stat(a, idlePing),
    b: stat(b, idleUdp),
    c: stat(c, idlePing),
    treeRate: ((after.bytes - before.bytes) * 8) / ((t1 - t0) / 1000),
    goodput,
  };
}

/** Starts the UDP echo at the server; resolves once it listens. */
export async function udpEcho(lab: Lab, port: number): Promise<{ stop(): Promise<void> }> {
  const p = execa('ip', ['netns', 'exec', lab.server.ns.name, 'node', PROBE_SCRIPT, 'echo', String(port)], { reject: false });
  await new Promise<void>((resolve, reject) => {
    p.stdout?.once('data', () => resolve());
    p.once('exit', (code) => reject(new Error(`udp echo exited with ${code}`)));
  });
  return {
    async stop() {
      p.kill('SIGKILL');
      await p;
    },
  };
}

/** Makes the sender's TSO build what the policy lets the shaped interface carry (see the top). */
export async function emulateGro(lab: Lab, compiled: Compiled): Promise<{ egress: number; ingress: number }> {
  const wan0 = compiled.state.objects.find((x) => x.kind === 'link' && x.name === 'wan0');
  const egress = (wan0?.kind === 'link' && wan0.gsoMaxSize) || 65536;
  const ingress = (wan0?.kind === 'link' && wan0.groMaxSize) || 65536;
  await lab.client0.ns.run(['ip', 'link', 'set', 'dev', 'eth0', 'gso_max_size', String(egress)]);
  await lab.server.ns.run(['ip', 'link', 'set', 'dev', 'eth0', 'gso_max_size', String(ingress)]);
  return { egress, ingress };
}

/** One frame's transmission time at `bps`, ms. */
export const mtuMs = (bps: number) => (1514 * 8 * 1000) / bps;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
