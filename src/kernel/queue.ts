// Queues sized in time, not bytes: what a class's leaf holds, how far HTB lets a class
// burst, and how large a packet a shaped device may carry, all from the rate it runs at.
// The delay a shaped link adds is what users judge (sqm-scripts/cake: A+ below 5 ms
// under load); its floor is one frame's transmission time at the shaped rate (15 ms at
// 800 kbit, 1.2 ms at 10 mbit). The checker warns with these figures (QueueTimeBounded),
// the backend compiles them (backends/htb.ts, backends/index.ts).

/** An Ethernet frame of a 1500-byte IP packet, as HTB counts it (MAC header included). */
export const MTU_FRAME = 1514;
/** The largest GSO/GRO super-packet the kernel builds by default (gso_max_size 65536). */
export const GSO_MAX = 65536;
/** Headroom HTB's burst adds to a packet (tc-htb(8)'s default mtu for the burst). */
const BURST_HEADROOM = 1600;

/** How long one packet may hold the line: above it, GSO/GRO is limited on the device. */
export const PACKET_TIME = 0.001;
/** What the default fifo leaf holds at the class's ceil. */
export const FIFO_TIME = 0.05;
/** The queue time above which the checker warns (QP3009). */
export const QUEUE_WARN_TIME = 0.1;
/** fq_codel's default target (tc-fq_codel(8)); raised where one frame takes longer. */
const CODEL_TARGET = 0.005;
const CODEL_INTERVAL = 0.1;

/** Seconds that `bytes` take at `bps`. */
export const timeOf = (bytes: number, bps: number) => (bytes * 8) / bps;
/** Bytes sent in `seconds` at `bps`. */
export const bytesIn = (seconds: number, bps: number) => Math.ceil((bps / 8) * seconds);

/**
 * The largest packet a device shaped down to `bps` should carry: about PACKET_TIME on the
 * wire, at least one frame, at most a full GSO packet (which then needs no setting). A
 * 64 KiB GSO packet holds an 800 kbit line for 0.65 s; at 1 gbit for 0.5 ms.
 */
export const packetCapFor = (bps: number) => Math.min(GSO_MAX, Math.max(MTU_FRAME, Math.floor(bytesIn(PACKET_TIME, bps))));

/** One millisecond at the rate plus a frame's headroom, like tc's own default (rate/HZ + mtu). */
export const burstFor = (bps: number) => bytesIn(0.001, bps) + BURST_HEADROOM;

/**
 * cburst holds at least the largest packet the class meets (`packet`): below it, HTB caps a
 * waiting class's ceil tokens under one packet, and a borrowing class loses ceil time it
 * never makes up (test/lab: `ceil 8mbit`, cburst 2600b, 64 KiB GSO packets: 6.98 mbit).
 * No larger: a 64 KiB cburst let a 200 kbit class send 3.7× its ceil for a second.
 */
export const cburstFor = (ceil: number, packet: number) => Math.max(burstFor(ceil), packet + BURST_HEADROOM);

/**
 * HTB's round-robin quantum: 5 ms at the rate (weights in proportion to rates), at least
 * the largest packet (below it HTB counts packets, not bytes: a host sending 64 KiB packets
 * out-ran one sending 34 KiB ones 3:1, kernel lab) and at most 200 000 (where HTB warns).
 */
export const quantumFor = (bps: number, packet: number) => Math.min(200000, Math.max(packet, bytesIn(0.005, bps)));

/** The default fifo leaf's byte limit: FIFO_TIME at the ceil, at least two of the largest packets. */
export const fifoBytesFor = (ceil: number, packet: number) => Math.max(2 * packet, bytesIn(FIFO_TIME, ceil));

/**
 * fq_codel for a class with this ceil: the default target (5 ms) unless one frame takes
 * longer — then 1.5 frame times, and the interval grown by as much (as sqm-scripts does):
 * a target below one frame's time makes CoDel drop on every packet.
 */
export function codelFor(ceil: number, frame = MTU_FRAME): { target: number; interval: number } {
  const target = Math.max(CODEL_TARGET, 1.5 * timeOf(frame, ceil));
  return { target, interval: CODEL_INTERVAL + target - CODEL_TARGET };
}

/** Milliseconds, rounded up to a whole one, as tc reads them (`23ms`). */
export const msText = (seconds: number) => `${Math.ceil(seconds * 1000 - 1e-9)}ms`;

/** Which leaf a class without `leaf` gets on a kernel with these qdiscs (undefined: not known). */
export const defaultLeafKind = (features?: ReadonlySet<string>): 'fq_codel' | 'bfifo' => (features?.has('fq_codel') ? 'fq_codel' : 'bfifo');
