// Port classes in O(1): a run of consecutive classes that each match only single ports
// (one direction, tcp and/or udp) is classified by a u32 hash table on the port's low
// byte instead of a filter per class (tc-u32(8) `hashkey … link`). The kernel then tries
// a handful of nodes per packet however many classes there are; a linear list costs
// ~11 ns a node (REFERENCE.md: 1 000 port filters cut 283 kpps to 69.5).
//
// First match still wins: ports in different buckets are different ports, and within a
// bucket nodes keep the classes' order. Runs never mix sport and dport, since one packet
// can match a sport line and a dport line of different classes.
import type { PortLine } from '../check/hashruns.js';
import type { U32Node } from '../model/types.js';
import { mergeKeys, protoKeys, type Family } from './u32.js';

export interface HashedRun {
  /** Per class of the run, in order: its classid and its lines. */
  classes: Array<{ flowid: string; lines: PortLine[] }>;
  dir: 'sport' | 'dport';
}

/**
 * The nodes and tables of one family for a run: per protocol, a root node that checks the
 * protocol (and for IPv4 a 20-byte header and a first fragment) and links into a 256-bucket
 * table keyed on the port's low byte; one node per class and port in its bucket.
 */
export function hashedNodes(run: HashedRun, family: Family, tableFor: (proto: string) => number): { tables: Array<{ handle: string; divisor: number }>; nodes: U32Node[] } {
  const base = family === 4 ? 20 : 40;
  const shift = run.dir === 'sport' ? 16 : 0;
  const protos = [...new Set(run.classes.flatMap((c) => c.lines.flatMap((l) => l.protos)))];
  const tables: Array<{ handle: string; divisor: number }> = [];
  const roots: U32Node[] = [];
  const buckets: U32Node[] = [];
  /** Per bucket node: its table and bucket numbers, for the sort below. */
  const places: number[] = [];
  for (const proto of protos) {
    const table = tableFor(proto);
    const h = table.toString(16);
    tables.push({ handle: `${h}:`, divisor: 256 });
    roots.push({ keys: mergeKeys(protoKeys(family, proto, true)), hashkey: { mask: (0xff << shift) >>> 0, at: base }, link: `${h}:` });
    for (const c of run.classes) {
      for (const l of c.lines) {
        if (!l.protos.includes(proto)) continue;
        for (const p of l.ports) {
          buckets.push({ ht: `${h}:${(p & 0xff).toString(16)}:`, keys: [{ off: base, val: (p << shift) >>> 0, mask: (0xffff << shift) >>> 0 }], flowid: c.flowid });
          places.push(table * 256 + (p & 0xff));
        }
      }
    }
  }
  // Bucket nodes in the order the kernel lists them: by table, by bucket, then as added
  // (the classes' order, which first-match needs within a bucket).
  const order = buckets.map((_, i) => i).sort((a, b) => places[a]! - places[b]! || a - b);
  const sorted = order.map((i) => buckets[i]!);
  tables.sort((a, b) => parseInt(a.handle, 16) - parseInt(b.handle, 16));
  return { tables, nodes: [...roots, ...sorted] };
}
