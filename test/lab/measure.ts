// Measuring the lab: iperf3 downloads (receiver-side goodput) and HTB's own byte counters.
//
// Two figures per measurement, because they count different bytes:
// - goodput: what the receiving iperf3 reports (`-J`, end.sum_received.bits_per_second,
//   the first `omit` seconds left out with -O). TCP payload only.
// - HTB rate: the class's `Sent N bytes` from `tc -s class show`, read twice while the
//   flows run; the difference over the time between the reads. HTB counts (and shapes)
//   whole frames: Ethernet header + IP + TCP header + payload, per segment even for GSO
//   packets (qdisc_pkt_len_init), so this is what a configured rate/ceil is measured in.
// The two differ by a known factor, goodputFactor(): TCP payload per frame byte.
import type { Netns } from '../support/netns.js';
import type { Compiled } from './policy.js';
import type { Host, Lab } from './topology.js';
import { parseClassCounters } from '../../src/state/index.js';

export type Family = 4 | 6;

/** UDP payload per datagram of the lab's UDP flows (iperf3 -l): fits IPv6 without fragments. */
export const UDP_PAYLOAD = 1400;

/**
 * Payload per byte HTB counts (an ifb or a veth sees the frame with its 14-byte MAC
 * header). TCP, full-sized segments with MTU 1500, TCP header 20 + timestamp option 12:
 * IPv4 1448 / 1514 = 0.956, IPv6 (40-byte header) 1428 / 1514 = 0.943. UDP datagrams of
 * UDP_PAYLOAD bytes + 8: IPv4 1400 / 1442 = 0.971, IPv6 1400 / 1462 = 0.958.
 * REFERENCE.md's "goodput is ~4–5 % under the link-layer rate" is the TCP factor.
 */
export const goodputFactor = (family: Family, proto: 'tcp' | 'udp' = 'tcp') => {
  const ip = family === 4 ? 20 : 40;
  return proto === 'tcp' ? (1500 - ip - 32) / 1514 : UDP_PAYLOAD / (UDP_PAYLOAD + 8 + ip + 14);
};

/** Defaults: each run lasts omit + seconds; a figure is the median of `runs` runs. */
export const LAB = {
  seconds: Number(process.env.QP_LAB_SECONDS ?? 5),
  omit: 1,
  runs: Number(process.env.QP_LAB_RUNS ?? 3),
  /** Relative tolerance of every throughput assertion. */
  tolerance: 0.07,
};

export interface Flow {
  /** Name of the flow in results. */
  label: string;
  /** Receives the download (iperf3 -c … -R). */
  client: Host;
  /** Sends it: an iperf3 server must listen there on `port` (lab.iperfServer). */
  server: Host;
  port: number;
  family: Family;
  /** Parallel TCP streams (-P), default 1. */
  streams?: number;
  /** A UDP flow at this sending rate (iperf3 -u -b, e.g. '30M') instead of TCP. */
  udp?: string;
}

export interface Run {
  /** Receiver-side goodput per flow label, Mbit/s. */
  goodput: Record<string, number>;
  /**
   * HTB-counted rate per policy class name, Mbit/s (frame bytes between two reads). The
   * tree's root class is under the tree's name: 'wan0 ingress', 'shared uplinks'.
   */
  htb: Record<string, number>;
  /** Packets counted per policy class from before the flows start until they end. */
  packets: Record<string, number>;
}

export interface Measured {
  /** The per-key median over the runs. */
  median: Run;
  runs: Run[];
}

/**
 * Runs the flows in parallel, `runs` times, and reads the counters of the named policy
 * classes (all of them when `classes` is omitted).
 */
export async function measure(
  lab: Lab,
  compiled: Compiled,
  flows: Flow[],
  opts: { classes?: string[]; runs?: number; seconds?: number } = {},
): Promise<Measured> {
  const seconds = opts.seconds ?? LAB.seconds;
  const runs: Run[] = [];
  const names =
    opts.classes ??
    compiled.state.objects.flatMap((o) => (o.kind === 'class' && o.origin ? [o.origin.path.split(' › ').at(-1)!] : []));
  const classes = names.map((name) => ({ name, c: compiled.htbClass(name) }));
  const read = async () => {
    const byDev = new Map<string, Map<string, Counter>>();
    for (const dev of new Set(classes.map((x) => x.c.dev))) byDev.set(dev, await classCounters(lab.router, dev));
    const t = performance.now();
    const out = new Map<string, Counter & { t: number }>();
    for (const { name, c } of classes) {
      const k = byDev.get(c.dev)!.get(c.classid);
      if (!k) throw new Error(`class ${c.classid} (${name}) not on ${c.dev}`);
      out.set(name, { ...k, t });
    }
    return out;
  };

  for (let i = 0; i < (opts.runs ?? LAB.runs); i++) {
    const before = await read();
    const started = Promise.all(flows.map((f) => download(f, seconds)));
    // Read the counters inside the measured period: after the omitted second and slow
    // start, and before the flows wind down.
    const window = (async () => {
      await sleep((LAB.omit + 0.5) * 1000);
      const a = await read();
      await sleep((seconds - 1) * 1000);
      return [a, await read()] as const;
    })();
    const [goodputs, [a, b]] = await Promise.all([started, window]);
    const after = await read();
    const run: Run = { goodput: {}, htb: {}, packets: {} };
    flows.forEach((f, j) => (run.goodput[f.label] = goodputs[j]!));
    for (const { name } of classes) {
      const x = a.get(name)!;
      const y = b.get(name)!;
      run.htb[name] = ((y.bytes - x.bytes) * 8) / ((y.t - x.t) / 1000) / 1e6;
      run.packets[name] = after.get(name)!.packets - before.get(name)!.packets;
    }
    runs.push(run);
  }
  return { median: medianRun(runs), runs };
}

/**
 * One iperf3 download from flow.server to flow.client: the receiver's goodput in Mbit/s
 * (end.sum_received, which leaves the omitted first second out; for UDP it counts only
 * the datagrams that arrived).
 */
export async function download(flow: Flow, seconds: number): Promise<number> {
  const addr = flow.family === 4 ? flow.server.v4 : flow.server.v6;
  const argv = ['iperf3', '-c', addr, '-p', String(flow.port), '-R', '-t', String(seconds), '-O', String(LAB.omit), '-J'];
  argv.push('--connect-timeout', '3000', '-P', String(flow.streams ?? 1));
  if (flow.udp) argv.push('-u', '-b', flow.udp, '-l', String(UDP_PAYLOAD));
  for (let attempt = 0; ; attempt++) {
    const r = await flow.client.ns.run(argv, { reject: false, timeout: (seconds + LAB.omit + 20) * 1000 });
    let json: { error?: string; end?: { sum_received?: { bits_per_second?: number } } } = {};
    try {
      json = JSON.parse(String(r.stdout));
    } catch {
      // not JSON: reported below
    }
    const bps = json.end?.sum_received?.bits_per_second;
    if (r.exitCode === 0 && typeof bps === 'number') return bps / 1e6;
    // A server still tearing down the previous test answers "busy" for a moment.
    if (attempt < 3 && /busy/.test(json.error ?? '')) {
      await sleep(500);
      continue;
    }
    throw new Error(`iperf3 ${flow.label} failed (${r.exitCode}): ${json.error ?? String(r.stderr || r.stdout).slice(0, 500)}`);
  }
}

export interface Counter {
  bytes: number;
  packets: number;
}

/** `tc -s class show dev DEV` → classid → Sent bytes/packets. */
export async function classCounters(router: Netns, dev: string): Promise<Map<string, Counter>> {
  const r = await router.run(['tc', '-s', 'class', 'show', 'dev', dev]);
  return parseClassCounters(String(r.stdout));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianRun(runs: Run[]): Run {
  const med = (key: keyof Run) => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(runs[0]![key])) out[k] = median(runs.map((r) => r[key][k]!));
    return out;
  };
  return { goodput: med('goodput'), htb: med('htb'), packets: med('packets') };
}

/** "9.53 (9.51 9.53 9.55)": the median and every run, for the test output. */
export function fmt(m: Measured, key: 'goodput' | 'htb', name: string): string {
  const all = m.runs.map((r) => r[key][name]!.toFixed(2)).join(' ');
  return `${m.median[key][name]!.toFixed(2)} (${all})`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
