import type { Filter, HtbClass, KernelObject, Qdisc, U32Key, U32Node } from '../model/index.js';
import { codelFromParams, codelParams } from './codel.js';
import { normClassid, normHandle, normMinor } from '../kernel/handles.js';
import { taprioReadback } from './taprio.js';

// What reading a desired object back from the kernel will show, so that a plan can
// compare `expectedReadback(desired)` with the live state field by field and see no
// difference where the kernel or tc's printing changed a value (iproute2 6.1, psched
// clock of every kernel since 2.6.31: /proc/net/psched = 000003e8 00000040 000f4240 3b9aca00).
//
// - Rates: tc sends bytes/s (bits / 8, truncated) and prints them with
//   1000-based prefixes, dividing (truncating) while the value is a multiple of 1000 or
//   at least a million of the unit: 123bit → 120bit, 1234567bit → 1234Kbit.
// - HTB burst/cburst: tc turns bytes into a transmit time in whole microseconds, then
//   into psched ticks (64 ns), and back on show (truncating each time, and wrapping at
//   32 bits for tiny rates), then prints sizes 1024-based when within 16 bytes of a
//   whole Kb (1024 bytes of a whole Mb): burst 15k at 10gbit → 13750b, 2000 at 1234567bit
//   → 1999b, 3k at 99mbit → 3069 → "3Kb" → 3072.
// - HTB shows prio and quantum only for leaves; inner classes read back with 0 for both.
// - htb `default` as lowercase hex minor, r2q dropped when it is 10 (the default).
// - u32 keys: tc stores val & mask and merges keys at the same offset into one word
//   (`match ip sport 22` + `match ip dport 80` → one key at 20).

const TICKS_PER_USEC = 1000 / 64; // t2us / us2t from /proc/net/psched
const USEC_PER_SEC = 1e6;
/** tc's HZ for htb's default buffer: the 4th /proc/net/psched field (1 GHz with hrtimers). */
const PSCHED_HZ = 1e9;
/** tc-htb(8): mtu used for the default burst. */
const HTB_DEFAULT_MTU = 1600;

/** The rate (bit/s) tc shows for a requested rate (bit/s). */
export function shownRate(bits: number): number {
  // In doubles while every step is exact (integers far below 2^53), which is every real rate.
  if (bits < 2 ** 40) {
    let rate = Math.floor(bits / 8) * 8;
    let scale = 1;
    for (let i = 0; i < 4; i++) {
      if (rate < 1000) break;
      if (rate % 1000 !== 0 && rate < 1000 * 1000) break;
      rate = Math.trunc(rate / 1000);
      scale *= 1000;
    }
    return rate * scale;
  }
  let rate = BigInt(Math.floor(bits / 8)) * 8n;
  let scale = 1n;
  for (let i = 0; i < 4; i++) {
    if (rate < 1000n) break;
    if (rate % 1000n !== 0n && rate < 1000n * 1000n) break;
    rate /= 1000n;
    scale *= 1000n;
  }
  return Number(rate * scale);
}

/** The size (bytes) tc shows for a size the kernel holds: `%gMb`, `%gKb` or `%ub` read back. */
export function shownSize(bytes: number): number {
  const kib = 1024;
  const mib = kib * kib;
  if (bytes >= mib && Math.abs(mib * Math.round(bytes / mib) - bytes) < 1024) return mib * Math.round(bytes / mib);
  if (bytes >= kib && Math.abs(kib * Math.round(bytes / kib) - bytes) < 16) return kib * Math.round(bytes / kib);
  return bytes;
}

/** The buffer (bytes) the kernel gives back for an htb burst of `bytes` at `bits` per second, before printing. */
export function htbBufferRoundTrip(bits: number, bytes: number): number {
  const rate = Math.floor(bits / 8); // bytes/s
  if (rate === 0) return 0;
  const usec = Math.trunc(USEC_PER_SEC * (bytes / rate)) >>> 0; // tc_calc_xmittime → tc_core_time2tick(unsigned)
  const ticks = Math.trunc(usec * TICKS_PER_USEC) % 2 ** 32; // unsigned int, wraps (exact: below 2^36)
  const back = Math.trunc(ticks / TICKS_PER_USEC); // tc_core_tick2time
  return Math.trunc((rate * back) / USEC_PER_SEC) >>> 0; // tc_calc_xmitsize
}

/** The burst tc's htb picks when none is given: rate / HZ + mtu (tc-htb(8)). */
export function htbDefaultBurst(bits: number): number {
  return Math.floor(Math.floor(bits / 8) / PSCHED_HZ) + HTB_DEFAULT_MTU;
}

/** The u32 keys as the kernel holds them: val & mask, keys at one offset merged, in first-seen order. */
export function packU32Keys(keys: U32Key[]): U32Key[] {
  const out: U32Key[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const val = (k.val & k.mask) >>> 0;
    let same: U32Key | undefined;
    for (let j = 0; j < out.length && !same; j++) if (out[j]!.off === k.off) same = out[j]; // (no closure: runs cold for every node)
    if (same) {
      same.val = (same.val | val) >>> 0;
      same.mask = (same.mask | k.mask) >>> 0;
    } else out.push({ off: k.off, val, mask: k.mask >>> 0 });
  }
  return out;
}

/**
 * Desired objects as `readDevice` will show them once applied. Objects other than
 * qdiscs, classes and filters are returned unchanged.
 */
export function expectedReadback(objects: KernelObject[]): KernelObject[] {
  const parents = new Set(objects.filter((o): o is HtbClass => o.kind === 'class').map((c) => `${c.dev} ${normClassid(c.parent)}`));
  return objects.map((o) => {
    switch (o.kind) {
      case 'qdisc':
        return qdiscReadback(o);
      case 'class':
        return classReadback(o, parents.has(`${o.dev} ${normClassid(o.classid)}`));
      case 'filter':
        return filterReadback(o);
      default:
        return o;
    }
  });
}

function qdiscReadback(q: Qdisc): Qdisc {
  let params = q.params;
  if (q.qdisc === 'htb') {
    params = [['default', normMinor(q.params.find(([k]) => k === 'default')?.[1] ?? '0')]];
    const r2q = q.params.find(([k]) => k === 'r2q')?.[1];
    if (r2q !== undefined && Number(r2q) !== 10) params.push(['r2q', String(Number(r2q))]);
  }
  if (q.qdisc === 'taprio') params = taprioReadback(q.params);
  if (q.qdisc === 'fq_codel') params = codelParams(codelFromParams(q.params));
  const parent = q.parent === 'root' || q.parent === 'ingress' ? q.parent : normClassid(q.parent);
  return { ...q, parent, handle: normHandle(q.handle), params };
}

function classReadback(c: HtbClass, inner: boolean): HtbClass {
  const rate = Math.floor(c.rate / 8) * 8;
  const ceil = Math.floor(c.ceil / 8) * 8;
  return {
    ...c,
    classid: normClassid(c.classid),
    parent: normClassid(c.parent),
    rate: shownRate(c.rate),
    ceil: shownRate(c.ceil),
    prio: inner ? 0 : c.prio,
    quantum: inner ? 0 : c.quantum,
    burst: shownSize(htbBufferRoundTrip(rate, c.burst)),
    cburst: shownSize(htbBufferRoundTrip(ceil, c.cburst)),
  };
}

function filterReadback(f: Filter): Filter {
  return {
    ...f,
    nodes: f.nodes.map((n): U32Node => {
      const node: U32Node = { ...n, keys: packU32Keys(n.keys) };
      if (n.flowid !== undefined) node.flowid = normClassid(n.flowid);
      return node;
    }),
  };
}
