// Prefix classes in O(1), like port classes (porthash.ts): a run of consecutive classes
// that each match only IPv4 prefixes of one direction is classified by a u32 hash table
// on one byte of the address — a byte inside the shortest prefix of the run, so every
// prefix falls in exactly one bucket. Within a bucket nodes keep the classes' order
// (first match wins among overlapping prefixes, which share the bucket). IPv6 prefixes of
// the same lines go into one linear filter of the run (one prio, not one per class).
import type { Match, Prefix } from '../syntax/ast.js';
import type { U32Node } from '../model/types.js';
import { ipv4Words, prefixMask } from './u32.js';

export interface PrefixLine {
  dir: 'src' | 'dst';
  v4: Prefix[];
  match: Match;
}

/** A line this scheme can hash: one src or dst list with IPv4 prefixes of /8 or longer. */
export function prefixLine(m: Match): PrefixLine | undefined {
  const [c, more] = m.criteria;
  if (!c || more || c.kind !== 'addr' || c.negate) return undefined;
  const v4 = c.prefixes.filter((p) => p.family === 4);
  if (v4.length === 0 || v4.some((p) => p.length < 8 || p.length > 32)) return undefined;
  return { dir: c.dir, v4, match: m };
}

export interface PrefixRun {
  dir: 'src' | 'dst';
  classes: Array<{ flowid: string; lines: PrefixLine[] }>;
}

/** The IPv4 table of a run: a root node hashing one address byte, one node per prefix in its bucket. */
export function prefixHashedNodes(run: PrefixRun, table: number): { tables: Array<{ handle: string; divisor: number }>; nodes: U32Node[] } {
  const off = run.dir === 'src' ? 12 : 16;
  const all = run.classes.flatMap((c) => c.lines.flatMap((l) => l.v4));
  // Any byte inside every prefix puts each prefix in one bucket; take the one that spreads
  // them over the most buckets (customers' /24s in one /8 differ in the third byte).
  const networks = all.map((p) => (ipv4Words(p.address) & prefixMask(p.length)) >>> 0);
  const last = Math.floor(Math.min(...all.map((p) => p.length)) / 8) - 1; // 0…3
  let shift = 8 * (3 - last);
  let spread = 0;
  for (let byte = 0; byte <= last; byte++) {
    const sh = 8 * (3 - byte);
    const n = new Set(networks.map((w) => (w >>> sh) & 0xff)).size;
    if (n >= spread) [shift, spread] = [sh, n];
  }
  const h = table.toString(16);
  const root: U32Node = { keys: [{ off: 0, val: 0, mask: 0 }], hashkey: { mask: (0xff << shift) >>> 0, at: off }, link: `${h}:` };
  const buckets: Array<{ n: U32Node; b: number; i: number }> = [];
  for (const c of run.classes) {
    for (const l of c.lines) {
      for (const p of l.v4) {
        const mask = prefixMask(p.length);
        const network = (ipv4Words(p.address) & mask) >>> 0;
        const b = (network >>> shift) & 0xff;
        buckets.push({ n: { ht: `${h}:${b.toString(16)}:`, keys: [{ off, val: network, mask }], flowid: c.flowid }, b, i: buckets.length });
      }
    }
  }
  // In the order the kernel lists them: by bucket, then as added (the classes' order).
  buckets.sort((x, y) => x.b - y.b || x.i - y.i);
  return { tables: [{ handle: `${h}:`, divisor: 256 }], nodes: [root, ...buckets.map((x) => x.n)] };
}
