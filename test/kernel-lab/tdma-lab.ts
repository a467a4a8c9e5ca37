// Helpers of the kernel lab's TDMA tests (tdma-taprio.test.ts, tdma-module.test.ts): the
// traffic tool, the real compiler, the veth/netns set-up, and the judgement of arrival
// times against a schedule.
//
// Clocks. taprio (clockid CLOCK_TAI, base-time 0) and sch_tdma count frames from the TAI
// epoch: frame k starts at TAI k × frame. The receiver's SO_TIMESTAMPNS stamps are
// CLOCK_REALTIME. Both clocks are the same kernel clock in the same VM: CLOCK_TAI =
// CLOCK_REALTIME + the TAI offset, a whole number of seconds. When the frame divides one
// second (100 ms, 50 ms …), a whole number of seconds is a whole number of frames, so an
// arrival's place in the frame is simply `realtime mod frame`; the tests even set the TAI
// offset to 37 s (today's TAI−UTC) to show that it does not matter.
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { isCI } from '../support/netns.js';

export const MS = 1_000_000;

export interface Probe {
  path: string;
  dir: string;
}

/**
 * Builds tools/udp-probe.c with the host's gcc as a static binary (the VM's initramfs has
 * the host's shared libraries only for the tools it copies). Needs gcc and libc6-dev
 * (libc.a); never throws: a failure comes back as an Error for probeGate.
 */
export async function buildProbe(): Promise<Probe | Error> {
  const dir = mkdtempSync(join(tmpdir(), 'qlab-probe-'));
  const path = join(dir, 'udp-probe');
  const src = fileURLToPath(new URL('./tools/udp-probe.c', import.meta.url));
  const r = await execa('gcc', ['-O2', '-static', '-Wall', '-o', path, src], { reject: false, all: true });
  if (r.exitCode === 0) return { path, dir };
  rmSync(dir, { recursive: true, force: true });
  const why = r.failed && r.exitCode === undefined ? String((r as { message?: string }).message) : String(r.all ?? '').trim().split('\n').slice(-4).join('\n');
  return new Error(`building test/kernel-lab/tools/udp-probe.c (gcc -static: needs gcc and libc6-dev) failed: ${why}`);
}

/** Like labGate for the traffic tool: under CI a failed build throws; elsewhere it warns and skips. */
export function probeGate(p: Probe | Error, ci = isCI()): p is Probe {
  if (!(p instanceof Error)) return true;
  if (ci) throw new Error(`kernel lab cannot run under CI: ${p.message}`);
  console.warn(`kernel lab TDMA tests skipped (outside CI a missing prerequisite skips): ${p.message}`);
  return false;
}

/** Compiles a policy with the real compiler (the CLI's own code path). Throws on diagnostics with errors. */
export async function compilePolicy(file: string, format: 'sh' | 'json', target?: string): Promise<string> {
  let out = '';
  let err = '';
  const args = ['compile', file, '--format', format, ...(target ? ['--target', target] : [])];
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), color: false });
  if (code !== 0) throw new Error(`qospolicy ${args.join(' ')} exited ${code}:\n${err}`);
  return out;
}

/** Writes a policy text to a temporary file (for policies made up by a test). */
export function policyFile(name: string, text: string): { path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'qlab-pol-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * bash that makes a veth pair: DEV (with TXQ transmit queues) in the VM's main namespace,
 * 10.9.0.1/24, and its peer qv-peer in namespace `peer`, 10.9.0.2/24 plus `peerAddrs`. No
 * IPv6 (no ND or MLD packets in the counters) and a permanent neighbour entry (no ARP), so
 * the only packets through DEV's qdisc are the test's. Routes send `routes` via the peer.
 */
export function vethSetup(dev: string, opts: { txq?: number; peerAddrs?: string[]; routes?: string[] } = {}): string {
  const q = opts.txq ?? 1;
  return [
    'set -e',
    'for d in all default; do echo 1 > /proc/sys/net/ipv6/conf/$d/disable_ipv6; done',
    'ip netns add peer',
    `ip netns exec peer sh -c 'for d in all default; do echo 1 > /proc/sys/net/ipv6/conf/$d/disable_ipv6; done'`,
    `ip link add ${dev} numtxqueues ${q} numrxqueues ${q} type veth peer name qv-peer numtxqueues ${q} numrxqueues ${q} netns peer`,
    `ip addr add 10.9.0.1/24 dev ${dev}`,
    `ip link set ${dev} up`,
    'ip -n peer addr add 10.9.0.2/24 dev qv-peer',
    ...(opts.peerAddrs ?? []).map((a) => `ip -n peer addr add ${a} dev qv-peer`),
    'ip -n peer link set qv-peer up',
    'ip -n peer link set lo up',
    `ip neigh replace 10.9.0.2 lladdr "$(ip netns exec peer cat /sys/class/net/qv-peer/address)" dev ${dev} nud permanent`,
    ...(opts.routes ?? []).map((r) => `ip route add ${r} via 10.9.0.2 dev ${dev}`),
  ].join('\n');
}

/**
 * bash that runs the receiver in `peer` and the sender beside it, then prints the sender's
 * counts and, after a line `@@ARRIVALS`, the receiver's records. The receiver listens
 * `drainMs` longer than the sender sends, for the packets still queued for their window.
 */
export function trafficScript(o: { intervalUs: number; durationMs: number; targets: string[]; drainMs?: number; during?: string }): string {
  const ports = [...new Set(o.targets.map((t) => t.slice(t.lastIndexOf(':') + 1)))];
  const recvMs = o.durationMs + (o.drainMs ?? 400);
  return [
    'rm -f /tmp/recv.out /tmp/recv.err',
    `ip netns exec peer /root/udp-probe recv ${recvMs} ${ports.join(' ')} >/tmp/recv.out 2>/tmp/recv.err &`,
    'r=$!',
    'until grep -q ready /tmp/recv.err 2>/dev/null; do sleep 0.02; done',
    `/root/udp-probe send ${o.intervalUs} ${o.durationMs} ${o.targets.join(' ')} >/tmp/send.out &`,
    's=$!',
    o.during ?? '',
    'wait $s; wait $r',
    'cat /tmp/send.out',
    'echo @@ARRIVALS',
    'cat /tmp/recv.out',
  ].join('\n');
}

export interface Arrival {
  /** Index of the port in the receiver's list. */
  port: number;
  seq: number;
  /** Receive time (SO_TIMESTAMPNS, CLOCK_REALTIME) and send time, ns since `base` seconds. */
  arrival: number;
  sent: number;
}

export interface Traffic {
  sent: Map<string, { count: number; errors: number }>;
  base: number;
  arrivals: Arrival[];
}

export function parseTraffic(stdout: string): Traffic {
  const [head = '', body = ''] = stdout.split('@@ARRIVALS\n');
  const sent = new Map<string, { count: number; errors: number }>();
  for (const m of head.matchAll(/^sent (\S+) (\d+) (\d+)$/gm)) sent.set(m[1]!, { count: Number(m[2]), errors: Number(m[3]) });
  const base = Number(/^# base (\d+)$/m.exec(body)?.[1] ?? NaN);
  const arrivals: Arrival[] = [];
  for (const line of body.split('\n')) {
    const m = /^(\d+) (\d+) (\d+) (\d+)$/.exec(line);
    if (m) arrivals.push({ port: Number(m[1]), seq: Number(m[2]), arrival: Number(m[3]), sent: Number(m[4]) });
  }
  return { sent, base, arrivals };
}

/** A window of the frame: [at, at + length), ns from the frame start. */
export interface Window {
  name: string;
  at: number;
  length: number;
}

export interface SlotVerdict {
  name: string;
  packets: number;
  /** Arrived in its own window widened by the guard on both sides. */
  inside: number;
  /** Arrived where no window (widened by the guard) is: closed time. */
  closed: number;
  /** Arrived more than the guard before its window opens (nearer the next opening than the last closing). */
  early: number;
  /** Arrival − the window opening the packet could first use (0 when sent inside its window), ms. */
  waitMs: { median: number; p99: number; max: number };
  /** Packets that left in a later window than the first one they could have used (with at least `guard` of it left). */
  skipped: number;
  /** Windows (frames) some packet could have used but did not, of all windows packets could use. */
  missedWindows: number;
  windows: number;
  /** Latest arrival after its window closed, ms (0 when none). */
  maxLateMs: number;
}

const mod = (a: number, m: number) => ((a % m) + m) % m;

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
export const median = (xs: number[]) => quantile(xs, 0.5);

/** An absolute time in ns (a decimal string: TAI or REALTIME, ~1.8e18) as ns since `base` seconds. */
export function sinceBase(ns: string, base: number, offsetS = 0): number {
  return Number(BigInt(ns) - BigInt(base + offsetS) * 1_000_000_000n);
}

/** Is phase inside [from, to) on a circle of length frame? */
function within(phase: number, from: number, to: number, frame: number): boolean {
  if (to - from >= frame) return true;
  return mod(phase - from, frame) < to - from;
}

/**
 * Judges each packet's arrival against its own window (windows[a.port]) and against all
 * windows, in a frame of `frame` ns counted from the epoch of the arrival clock (see the
 * header for why REALTIME may stand for TAI). `guard`: the tolerance on either side.
 */
export function judge(arrivals: Arrival[], windows: Window[], frame: number, guard = MS, base = 0): SlotVerdict[] {
  // The base second as a phase (0 when the frame divides one second); BigInt: ~1.8e18 ns.
  const baseNs = Number((BigInt(base) * 1_000_000_000n) % BigInt(frame));
  return windows.map((w, i) => {
    const mine = arrivals.filter((a) => a.port === i);
    let inside = 0;
    let closed = 0;
    let early = 0;
    let skipped = 0;
    let maxLate = 0;
    const usedFrames = new Set<number>();
    const missedFrames = new Set<number>();
    const waits: number[] = [];
    for (const a of mine) {
      const phase = mod(baseNs + a.arrival, frame);
      if (within(phase, w.at - guard, w.at + w.length + guard, frame)) inside++;
      if (!windows.some((x) => within(phase, x.at - guard, x.at + x.length + guard, frame))) closed++;
      const open = within(phase, w.at, w.at + w.length, frame);
      if (!open) {
        const sinceClose = mod(phase - (w.at + w.length), frame);
        const toOpen = mod(w.at - phase, frame);
        if (toOpen < sinceClose && toOpen > guard) early++;
        if (sinceClose <= toOpen) maxLate = Math.max(maxLate, sinceClose);
      }
      // The first opening the packet could use: its send time if the window was open then.
      const sentPhase = mod(baseNs + a.sent, frame);
      const sentInside = within(sentPhase, w.at, w.at + w.length, frame);
      const usable = sentInside ? a.sent : a.sent + mod(w.at - sentPhase, frame);
      const wait = a.arrival - usable;
      waits.push(wait / MS);
      // Leaving in the first usable window takes less than length + guard; a later one, more.
      // A packet stamped in the last `guard` of its window may reach the qdisc after it
      // closed (the stamp is taken before sendto): not counted.
      const leftOpen = sentInside ? w.length - mod(sentPhase - w.at, frame) : w.length;
      const frameNo = Math.floor((baseNs + usable - w.at) / frame); // the window instance: by its opening
      usedFrames.add(frameNo);
      if (wait >= w.length + guard && leftOpen >= guard) {
        skipped++;
        missedFrames.add(frameNo);
      }
    }
    return {
      name: w.name,
      packets: mine.length,
      inside,
      closed,
      early,
      waitMs: { median: median(waits), p99: quantile(waits, 0.99), max: Math.max(0, ...waits) },
      skipped,
      missedWindows: missedFrames.size,
      windows: usedFrames.size,
      maxLateMs: maxLate / MS,
    };
  });
}

/**
 * How often the VM did not run: the sender sends on absolute deadlines every `intervalNs`,
 * so a gap between consecutive send stamps well over the interval means the guest was not
 * scheduled (TCG on a loaded host). Windows missed by taprio or sch_tdma line up with these.
 */
export function senderStalls(arrivals: Arrival[], intervalNs: number, over = 5 * MS): { count: number; longestMs: number } {
  const sent = arrivals.map((a) => a.sent).sort((a, b) => a - b);
  let count = 0;
  let longest = 0;
  for (let i = 1; i < sent.length; i++) {
    const gap = sent[i]! - sent[i - 1]!;
    if (gap > over + intervalNs) count++;
    longest = Math.max(longest, gap);
  }
  return { count, longestMs: longest / MS };
}

/** One line per slot for the test log and RESULTS.md. */
export function describeVerdicts(vs: SlotVerdict[]): string {
  return vs
    .map(
      (v) =>
        `${v.name}: ${v.packets} packets, inside ${((100 * v.inside) / v.packets).toFixed(2)} %, closed ${v.closed}, early ${v.early}, ` +
        `wait median ${v.waitMs.median.toFixed(2)} ms p99 ${v.waitMs.p99.toFixed(2)} ms, missed windows ${v.missedWindows} of ${v.windows} (${v.skipped} packets), latest after close ${v.maxLateMs.toFixed(2)} ms`,
    )
    .join('\n');
}
