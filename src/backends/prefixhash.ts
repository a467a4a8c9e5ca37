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
  length: number;
  keys: U32Key[];
  flowid: string;
}

type Tables = Array<{ handle: string; divisor: number }>;

/**
 * The nodes and tables of one family for a run. `tableFor(key)` gives a u32 table number:
 * key '' for the root table, '/b1/b2…' for a bucket's own table.
 */
export function prefixHashedNodes(run: PrefixRun, family: 4 | 6, tableFor: (key: string) => number): { tables: Tables; nodes: U32Node[] } {
  const base = family === 4 ? (run.dir === 'src' ? 12 : 16) : run.dir === 'src' ? 8 : 24;
  const entries: Entry[] = [];
  let shortV6 = false;
  for (const c of run.classes) {
    for (const l of c.lines) {
      for (const p of family === 4 ? l.v4 : l.v6) {
        entries.push({ length: p.length, keys: prefixKeys(p, base), flowid: c.flowid });
        if (p.length < 8) shortV6 = true;
      }
    }
  }
  if (family === 6 && (entries.length < V6_HASH_MIN || shortV6)) {
    // Few (or very short) IPv6 prefixes: one linear filter for the run, in class order.
    return { tables: [], nodes: run.classes.flatMap((c) => c.lines.filter((l) => l.v6.length > 0).flatMap((l) => matchNodes(l.match, 6, c.flowid))) };
  }
  const out = new Placed();
  const level = (list: Entry[], at: Bucket | undefined, used: number[], key: string): void => {
    const { byte, spread } = widestByte(list, used);
    if (byte < 0 || (at !== undefined && spread < 2)) {
      for (const e of list) out.push(at, at ? { ht: at.ht, keys: e.keys, flowid: e.flowid } : { keys: e.keys, flowid: e.flowid });
      return;
    }
    const table = tableFor(key);
    const h = table.toString(16);
    out.tables.push({ handle: `${h}:`, divisor: 256 });
    const mask = (0xff << (8 * (3 - (byte % 4)))) >>> 0;
    const hashkey = { mask, at: base + 4 * Math.floor(byte / 4) };
    out.push(at, at ? { ht: at.ht, keys: [{ off: 0, val: 0, mask: 0 }], hashkey, link: `${h}:` } : { keys: [{ off: 0, val: 0, mask: 0 }], hashkey, link: `${h}:` });
    // Each byte value's entries, in the list's order; buckets in ascending value.
    const buckets: Entry[][] = [];
    for (const e of list) (buckets[byteOf(e, byte)] ??= []).push(e);
    for (let b = 0; b < 256; b++) {
      const group = buckets[b];
      if (!group) continue;
      const bucket: Bucket = { ht: `${h}:${b.toString(16)}:`, table, b };
      if (group.length > SPLIT_ABOVE && used.length < MAX_LEVELS) level(group, bucket, [...used, byte], `${key}/${b}`);
      else for (const e of group) out.push(bucket, { ht: bucket.ht, keys: e.keys, flowid: e.flowid });
    }
  };
  level(entries, undefined, [], '');
  return out.listed();
}

/** A bucket of a table: its `ht` ('3a:1f:') and the numbers it is listed by. */
interface Bucket {
  ht: string;
  table: number;
  b: number;
}

/**
 * Any byte inside every prefix puts each prefix in one bucket; the one that spreads them
 * over the most buckets (the last of equals), customers' /24s in one /8 differ in the third.
 */
function widestByte(list: Entry[], used: number[]): { byte: number; spread: number } {
  let shortest = Infinity;
  for (const e of list) if (e.length < shortest) shortest = e.length;
  const last = Math.floor(shortest / 8) - 1;
  let byte = -1;
  let spread = 0;
  for (let b = 0; b <= last; b++) {
    if (used.includes(b)) continue;
    const n = distinctAt(list, b);
    if (n >= spread) [byte, spread] = [b, n];
  }
  return { byte, spread };
}

/** How many values byte `b` takes in the list (a stamp per value: no Set per byte and level). */
const seenAt = new Uint32Array(256);
let stamp = 0;
function distinctAt(list: Entry[], b: number): number {
  stamp = stamp === 0xffffffff ? (seenAt.fill(0), 1) : stamp + 1;
  let n = 0;
  for (const e of list) {
    const v = byteOf(e, b);
    if (seenAt[v] !== stamp) {
      seenAt[v] = stamp;
      n++;
    }
  }
  return n;
}

/** Index bits of a node below its place (table, bucket) in the listing order's number. */
const INDEX = 2 ** 24;

/** Nodes and tables as they are made, listed as the kernel lists them back (state/filters.ts). */
class Placed {
  readonly tables: Tables = [];
  private nodes: U32Node[] = [];
  /** Per node: (table + 1, bucket + 1) as one number, then its index: one numeric sort. */
  private order: number[] = [];
  push(at: Bucket | undefined, n: U32Node): void {
    const place = at ? (at.table + 1) * 257 + at.b + 1 : 0;
    this.order.push(place * INDEX + this.nodes.length);
    this.nodes.push(n);
  }
  /** Tables by handle; root-table nodes first, then by table and bucket, each bucket's in the order added. */
  listed(): { tables: Tables; nodes: U32Node[] } {
    if (this.nodes.length >= INDEX) throw new Error(`${this.nodes.length} u32 nodes in one filter`);
    const order = Float64Array.from(this.order).sort();
    const nodes = Array.from(order, (k) => this.nodes[k % INDEX]!);
    return { tables: this.tables.sort((a, b) => parseInt(a.handle, 16) - parseInt(b.handle, 16)), nodes };
  }
}

/**
 * Byte `b` of an entry's network, read from its keys (its words, host bits cleared). Only
 * bytes inside the prefix are asked for (widestByte), and its keys reach all of them.
 */
const byteOf = (e: Entry, b: number): number => (e.keys[b >> 2]!.val >>> (24 - 8 * (b & 3))) & 0xff;

/**
 * A prefix's keys at `base`, made once per base: a circuit's addresses are hashed at the top,
 * at their site and at their AP. The keys are shared by those nodes (objects are never changed).
 */
const keysAt = new Map<number, WeakMap<Prefix, U32Key[]>>();
function prefixKeys(p: Prefix, base: number): U32Key[] {
  let made = keysAt.get(base);
  if (!made) keysAt.set(base, (made = new WeakMap()));
  let keys = made.get(p);
  if (!keys) made.set(p, (keys = keysOf(p, base)));
  return keys;
}

/** The prefix's keys: one per 32-bit word its length reaches, host bits cleared. */
function keysOf(p: Prefix, base: number): U32Key[] {
  const g = p.family === 6 ? ipv6Groups(p.address) : undefined;
  const keys: U32Key[] = [];
  for (let w = 0; w * 32 < p.length; w++) {
    const word = g ? ((g[2 * w]! << 16) | g[2 * w + 1]!) >>> 0 : ipv4Words(p.address);
    const mask = prefixMask(Math.min(32, p.length - 32 * w));
    keys.push({ off: base + 4 * w, val: (word & mask) >>> 0, mask });
  }
  return keys;
}
