import type { Filter, HtbClass, KernelObject, Qdisc, U32Key, U32Node } from '../model/index.js';
import { codelFromParams, codelParams } from './codel.js';
import { normClassid, normHandle, normMinor } from '../kernel/handles.js';
import { taprioReadback } from './taprio.js';
import { htbBufferRoundTrip, shownRate, shownSize } from '../kernel/readback.js';

// What reading a desired object back from the kernel will show, so that a plan can
// compare `expectedReadback(desired)` with the live state field by field and see no
// difference where the kernel or tc's printing changed a value. Rates, sizes and htb
// bursts round-trip as src/kernel/readback.ts says; besides:
// - HTB shows prio and quantum only for leaves; inner classes read back with 0 for both.
// - htb `default` as lowercase hex minor, r2q dropped when it is 10 (the default).
// - u32 keys: tc stores val & mask and merges keys at the same offset into one word
//   (`match ip sport 22` + `match ip dport 80` → one key at 20).

/** The u32 keys as the kernel holds them: val & mask, keys at one offset merged, in first-seen order. */
export function packU32Keys(keys: U32Key[]): U32Key[] {
  if (packed(keys)) return keys; // (most are: 20 000 nodes of a hashed run need no copies)
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

/** Keys the kernel holds as they are: off, val and mask only, each val within its mask, both unsigned, one key per offset. */
function packed(keys: U32Key[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    let fields = 0;
    for (const _ in k) fields++;
    if (fields !== 3 || typeof k.off !== 'number' || (k.val & k.mask) >>> 0 !== k.val || k.mask >>> 0 !== k.mask) return false;
    for (let j = 0; j < i; j++) if (keys[j]!.off === k.off) return false;
  }
  return true;
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

/**
 * A hash bucket's nodes get ids as the kernel gives them: a node's own (`node`), else the
 * lowest free one from 0x800 when it is added (in list order). The reader lists root-table
 * nodes first, then by table, bucket and id: so are they here.
 */
function filterReadback(f: Filter): Filter {
  let rb = filterReadbacks.get(f);
  if (rb === undefined) filterReadbacks.set(f, (rb = filterReadbackOf(f)));
  return rb;
}

// A plan reads a filter back once per comparison (placing it, judging it, verifying the
// apply): a hashed run of 10 000 circuits is ~20 000 nodes to pack and sort each time.
// Desired objects are never changed once made, so one readback per filter object serves all.
const filterReadbacks = new WeakMap<Filter, Filter>();

function filterReadbackOf(f: Filter): Filter {
  // Per bucket: the ids taken, and the lowest id from 0x800 not known to be taken (every id
  // between is: ids are only ever added, so the search goes on from there).
  const used = new Map<string, { ids: Set<number>; free: number }>();
  const nodes = f.nodes.map((n): U32Node => {
    const node: U32Node = { ...n, keys: packU32Keys(n.keys) };
    if (n.flowid !== undefined) node.flowid = normClassid(n.flowid);
    if (n.ht !== undefined) {
      let b = used.get(n.ht);
      if (b === undefined) used.set(n.ht, (b = { ids: new Set(), free: 0x800 }));
      let id = n.node;
      if (id === undefined) {
        while (b.ids.has(b.free)) b.free++;
        id = b.free;
      }
      b.ids.add(id);
      node.node = id;
    }
    return node;
  });
  return { ...f, nodes: used.size === 0 ? nodes : listedOrder(nodes) };
}

/** Nodes as the kernel lists them: root-table nodes first (as they are), then by table, bucket and id. */
export function listedOrder(nodes: U32Node[]): U32Node[] {
  // A number per node that sorts alike (table, bucket and id are 12-bit each: 36 bits, exact
  // in a double), each `ht` read once: ~20 000 nodes, mostly in this order already.
  const tables = new Map<string, number>();
  const keys = new Float64Array(nodes.length);
  let sorted = true;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    let k = -1;
    if (n.ht !== undefined) {
      let t = tables.get(n.ht);
      if (t === undefined) tables.set(n.ht, (t = tableBucket(n.ht)));
      if (t < 0 || !(n.node! >= 0 && n.node! <= 0xfff)) return listedOrderSlow(nodes);
      k = t * 0x1000 + n.node!;
    }
    keys[i] = k;
    if (i > 0 && k < keys[i - 1]!) sorted = false;
  }
  if (sorted) return nodes.slice();
  const order = Array.from(nodes, (_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
  return order.map((i) => nodes[i]!);
}

/** `t:b:` → t·4096 + b, or -1 when either is not 12-bit hex. */
function tableBucket(ht: string): number {
  const [t, b] = ht.split(':').map((x) => parseInt(x, 16));
  return t! >= 0 && t! <= 0xfff && b! >= 0 && b! <= 0xfff ? t! * 0x1000 + b! : -1;
}

function listedOrderSlow(nodes: U32Node[]): U32Node[] {
  const place = (n: U32Node) => (n.ht === undefined ? [-1, -1, -1] : [...n.ht.split(':').slice(0, 2).map((x) => parseInt(x, 16)), n.node!]);
  const keyed = nodes.map((n, i) => ({ n, i, at: place(n) }));
  keyed.sort((a, b) => a.at[0]! - b.at[0]! || a.at[1]! - b.at[1]! || a.at[2]! - b.at[2]! || a.i - b.i);
  return keyed.map((x) => x.n);
}
