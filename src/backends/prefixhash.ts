// Prefix classes in O(1), like port classes (porthash.ts): a run of consecutive classes
// that each match only prefixes of one direction is classified by a u32 hash table on one
// byte of the address — a byte inside the shortest prefix of the run, so every prefix falls
// in exactly one bucket. A bucket that still holds many prefixes (10 000 subscribers' hosts
// share 256 buckets of their last byte) hashes another byte in a table of its own, so a
// packet meets a handful of nodes however many classes there are. Within a bucket nodes keep
// the classes' order (first match wins among overlapping prefixes, which share the bucket).
// IPv4 and IPv6 each get their tables (one filter each); a run with few IPv6 prefixes keeps
// them in one linear filter.
import type { Prefix } from '../syntax/ast.js';
import type { PrefixLine } from '../check/hashruns.js';
import type { U32Key, U32Node } from '../model/types.js';
import { ipv4Words, ipv6Groups, matchNodes, prefixMask } from './u32.js';

export interface PrefixRun {
  dir: 'src' | 'dst';
  classes: Array<{ flowid: string; lines: PrefixLine[] }>;
}

/** A bucket with more prefixes than this hashes another byte (when their lengths allow one). */
const SPLIT_ABOVE = 16;
/** Tables below the root: at most this many levels. */
const MAX_LEVELS = 3;
/** Fewer IPv6 prefixes than this in a run stay in one linear filter (readable, no table). */
const V6_HASH_MIN = 8;

interface Entry {
  /** The network's bytes (4 or 16). */
  bytes: number[];
  length: number;
  keys: U32Key[];
  flowid: string;
}

/**
 * The nodes and tables of one family for a run. `tableFor(key)` gives a u32 table number:
 * key '' for the root table, '/b1/b2…' for a bucket's own table.
 */
export function prefixHashedNodes(run: PrefixRun, family: 4 | 6, tableFor: (key: string) => number): { tables: Array<{ handle: string; divisor: number }>; nodes: U32Node[] } {
  const base = family === 4 ? (run.dir === 'src' ? 12 : 16) : run.dir === 'src' ? 8 : 24;
  const entries: Entry[] = [];
  for (const c of run.classes) {
    for (const l of c.lines) {
      for (const p of family === 4 ? l.v4 : l.v6) {
        const bytes = networkBytes(p);
        entries.push({ bytes, length: p.length, keys: keysOf(bytes, p.length, base), flowid: c.flowid });
      }
    }
  }
  if (family === 6 && (entries.length < V6_HASH_MIN || entries.some((e) => e.length < 8))) {
    // Few (or very short) IPv6 prefixes: one linear filter for the run, in class order.
    return { tables: [], nodes: run.classes.flatMap((c) => c.lines.filter((l) => l.v6.length > 0).flatMap((l) => matchNodes(l.match, 6, c.flowid))) };
  }
  const tables: Array<{ handle: string; divisor: number }> = [];
  const nodes: U32Node[] = [];
  const level = (list: Entry[], ht: string | undefined, used: number[], key: string): void => {
    // Any byte inside every prefix puts each prefix in one bucket; take the one that spreads
    // them over the most buckets (customers' /24s in one /8 differ in the third byte).
    const last = Math.floor(Math.min(...list.map((e) => e.length)) / 8) - 1;
    let byte = -1;
    let spread = 0;
    for (let b = 0; b <= last; b++) {
      if (used.includes(b)) continue;
      const n = new Set(list.map((e) => e.bytes[b])).size;
      if (n >= spread) [byte, spread] = [b, n];
    }
    if (byte < 0 || (ht !== undefined && spread < 2)) {
      for (const e of list) nodes.push({ ...(ht ? { ht } : {}), keys: e.keys, flowid: e.flowid });
      return;
    }
    const h = tableFor(key).toString(16);
    tables.push({ handle: `${h}:`, divisor: 256 });
    const mask = (0xff << (8 * (3 - (byte % 4)))) >>> 0;
    nodes.push({ ...(ht ? { ht } : {}), keys: [{ off: 0, val: 0, mask: 0 }], hashkey: { mask, at: base + 4 * Math.floor(byte / 4) }, link: `${h}:` });
    const buckets = new Map<number, Entry[]>();
    for (const e of list) {
      const b = e.bytes[byte]!;
      const group = buckets.get(b);
      if (group) group.push(e);
      else buckets.set(b, [e]);
    }
    for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
      const group = buckets.get(b)!;
      const bucket = `${h}:${b.toString(16)}:`;
      if (group.length > SPLIT_ABOVE && used.length < MAX_LEVELS) level(group, bucket, [...used, byte], `${key}/${b}`);
      else for (const e of group) nodes.push({ ht: bucket, keys: e.keys, flowid: e.flowid });
    }
  };
  level(entries, undefined, [], '');
  // As the kernel lists them back (state/filters.ts): tables by handle; root-table nodes
  // first, then by table and bucket, each bucket's nodes in the order they were added.
  const place = (n: U32Node) => (n.ht ? n.ht.split(':').map((x) => parseInt(x, 16)) : [-1, -1]);
  const sorted = nodes.map((n, i) => ({ n, i, at: place(n) })).sort((a, b) => a.at[0]! - b.at[0]! || a.at[1]! - b.at[1]! || a.i - b.i);
  tables.sort((a, b) => parseInt(a.handle, 16) - parseInt(b.handle, 16));
  return { tables, nodes: sorted.map((x) => x.n) };
}

/** The prefix's network (host bits cleared) as bytes. */
function networkBytes(p: Prefix): number[] {
  const g = p.family === 6 ? ipv6Groups(p.address) : [];
  const words = p.family === 4 ? [ipv4Words(p.address)] : [0, 1, 2, 3].map((w) => ((g[2 * w]! << 16) | g[2 * w + 1]!) >>> 0);
  const bytes: number[] = [];
  words.forEach((word, w) => {
    const masked = (word & prefixMask(Math.max(0, Math.min(32, p.length - 32 * w)))) >>> 0;
    bytes.push(masked >>> 24, (masked >>> 16) & 0xff, (masked >>> 8) & 0xff, masked & 0xff);
  });
  return bytes;
}

/** The prefix's keys: one per 32-bit word its length reaches. */
function keysOf(bytes: number[], length: number, base: number): U32Key[] {
  const keys: U32Key[] = [];
  for (let w = 0; w * 32 < length; w++) {
    const mask = prefixMask(Math.min(32, length - 32 * w));
    const val = ((bytes[4 * w]! << 24) | (bytes[4 * w + 1]! << 16) | (bytes[4 * w + 2]! << 8) | bytes[4 * w + 3]!) >>> 0;
    keys.push({ off: base + 4 * w, val, mask });
  }
  return keys;
}
