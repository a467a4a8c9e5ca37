// A hashed filter changed node by node: when a desired u32 filter has the same hash tables
// and links as a live one and differs only in the nodes of its buckets (a circuit added,
// removed or re-pointed), it keeps the live prio, table ids and node ids, and its new nodes
// take free ids in their buckets. The plan then adds and deletes those nodes alone, by
// handle (kinds/node.ts), and every other node of the run stays untouched.
//
// Within a bucket the kernel tries nodes in ascending id (measured: docs/plan.md), so order
// matters only between nodes that can match one packet and classify it differently: those
// keep the desired order, or the filter is not changed in place (it is then made anew
// beside the old one, hitless.ts).
import type { BucketNode, Filter, KernelObject, U32Key, U32Node } from '../model/types.js';
import { nodeId } from '../model/ids.js';
import { canonical, sameValue } from '../kinds/index.js';
import { listedOrder, unmodeledOf } from '../state/index.js';
import { readbackOf } from './objects.js';

const MAX_NODE = 0xfff;
const AUTO_NODE = 0x800;

/** The table of a bucket or link handle: '3a:1f:' → '3a'. */
const tableOf = (h: string) => h.slice(0, h.indexOf(':'));
/** A bucket handle with its table renamed. */
const renamed = (h: string, map: Map<string, string>) => `${map.get(tableOf(h)) ?? tableOf(h)}${h.slice(h.indexOf(':'))}`;
const isLeaf = (n: U32Node) => n.ht !== undefined && n.link === undefined && n.hashkey === undefined;
/**
 * A node's content: everything but its id (written out, not canonical(): 40 000 nodes a plan
 * of 10 000 circuits both ways).
 */
const content = (n: U32Node) => {
  let k = `${n.ht}|${n.link}|${n.flowid}|${n.connmark ? 1 : 0}`;
  for (const x of n.keys) k += `|${x.off} ${x.val} ${x.mask}`;
  if (n.mark) k += `|mark ${n.mark.val} ${n.mark.mask}`;
  if (n.hashkey) k += `|hash ${n.hashkey.mask} ${n.hashkey.at}`;
  if (n.action) k += `|${canonical(n.action)}`;
  return k;
};
/** What a node does with a packet it matches. */
const result = (n: U32Node) => canonical([n.flowid, n.action, n.connmark, n.link, n.hashkey]);

/** Two nodes can match one packet: no key (or mark) they share rules it out. */
function overlap(a: U32Node, b: U32Node): boolean {
  const clash = (x: U32Key, y: U32Key) => x.off === y.off && ((x.val ^ y.val) & x.mask & y.mask) >>> 0 !== 0;
  if (a.keys.some((x) => b.keys.some((y) => clash(x, y)))) return false;
  if (a.mark && b.mark && ((a.mark.val ^ b.mark.val) & a.mark.mask & b.mark.mask) >>> 0 !== 0) return false;
  return true;
}

/**
 * The desired filter placed onto the live one (its prio, tables and node ids; new bucket
 * nodes with free ids), its nodes in the order the kernel lists them; undefined when the
 * tables or links differ, or the buckets' order cannot be kept. Equal to `live` (as read
 * back) when only node ids differed.
 */
export function adoptNodes(want: Filter, live: Filter): Filter | undefined {
  if (!want.tables?.length || !live.tables || want.tables.length !== live.tables.length) return undefined;
  if (want.dev !== live.dev || want.parent !== live.parent || want.protocol !== live.protocol) return undefined;
  if (unmodeledOf(live).length) return undefined;
  const rb = readbackOf([want])[0] as Filter;
  const map = pairTables(want, rb, live);
  const nodes = map && nodesOnto(want, rb, live, map);
  if (!map || !nodes) return undefined;
  const tables = want.tables.map((t) => ({ ...t, handle: `${map.get(tableOf(t.handle))}:` })).sort((a, b) => parseInt(a.handle, 16) - parseInt(b.handle, 16));
  return { ...want, id: live.id, prio: live.prio, tables, nodes: listedOrder(nodes) };
}

/**
 * The desired tables' live names (desired table → live table), found by following the links
 * from the root table's nodes, table by table; undefined when the tables, their divisors or
 * the links differ. `rb` is the desired filter as read back.
 */
function pairTables(want: Filter, rb: Filter, live: Filter): Map<string, string> | undefined {
  const map = new Map<string, string>();
  const linksOf = (f: Filter) => {
    const m = new Map<string | undefined, U32Node[]>();
    for (const n of f.nodes) {
      if (n.ht !== undefined && n.link === undefined) continue;
      const t = n.ht === undefined ? undefined : tableOf(n.ht);
      (m.get(t) ?? m.set(t, []).get(t)!).push(n);
    }
    return m;
  };
  const [wantLinks, liveLinksByTable] = [linksOf(rb), linksOf(live)];
  const links = (f: Filter, table: string | undefined) => (f === rb ? wantLinks : liveLinksByTable).get(table) ?? [];
  const pair = (a: U32Node[], b: U32Node[]): boolean => {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if ((x.ht === undefined) !== (y.ht === undefined) || (x.ht && x.ht.slice(x.ht.indexOf(':')) !== y.ht!.slice(y.ht!.indexOf(':')))) return false;
      if (!sameValue({ ...x, ht: undefined, node: undefined, link: undefined }, { ...y, ht: undefined, node: undefined, link: undefined })) return false;
      if ((x.link === undefined) !== (y.link === undefined)) return false;
      if (x.link) {
        const [from, to] = [tableOf(x.link), tableOf(y.link!)];
        if (map.has(from) ? map.get(from) !== to : [...map.values()].includes(to)) return false;
        map.set(from, to);
      }
    }
    return true;
  };
  if (!pair(links(rb, undefined), links(live, undefined))) return undefined;
  for (let done = 0; done < map.size; done++) {
    const [from, to] = [...map][done]!;
    // Link nodes of a table, bucket by bucket (in a bucket, in their order).
    const byBucket = (f: Filter, t: string) => [...links(f, t)].sort((a, b) => parseInt(a.ht!.split(':')[1]!, 16) - parseInt(b.ht!.split(':')[1]!, 16));
    if (!pair(byBucket(rb, from), byBucket(live, to))) return undefined;
  }
  const divisor = (f: Filter, t: string) => f.tables!.find((x) => tableOf(x.handle) === t)?.divisor;
  if (map.size !== want.tables!.length || [...map].some(([a, b]) => divisor(want, a) === undefined || divisor(want, a) !== divisor(live, b))) return undefined;
  return map;
}

type Placed = { n: U32Node; id: number | undefined; i: number };

/**
 * The desired nodes on the live tables (`map`): a bucket node with a live twin keeps its id,
 * the others take free ones (bucketIds); undefined when a bucket's order cannot be kept.
 */
function nodesOnto(want: Filter, rb: Filter, live: Filter, map: Map<string, string>): U32Node[] | undefined {
  const liveLeaves = new Map<string, U32Node[]>();
  const taken = new Map<string, Set<number>>();
  for (const n of live.nodes) {
    if (n.ht === undefined) continue;
    (taken.get(n.ht) ?? taken.set(n.ht, new Set()).get(n.ht)!).add(n.node!);
    if (!isLeaf(n)) continue;
    const k = content(n);
    (liveLeaves.get(k) ?? liveLeaves.set(k, []).get(k)!).push(n);
  }
  const liveLinks = new Map(live.nodes.filter((n) => n.ht !== undefined && !isLeaf(n)).map((n) => [content(n), n.node!]));
  const out: U32Node[] = [];
  const buckets = new Map<string, Placed[]>();
  for (let i = 0; i < rb.nodes.length; i++) {
    const r = rb.nodes[i]!;
    const n: U32Node = { ...want.nodes[i]!, ...(r.ht ? { ht: renamed(r.ht, map) } : {}), ...(r.link ? { link: renamed(r.link, map) } : {}) };
    const seen = { ...r, ht: n.ht, link: n.link };
    if (n.ht === undefined) {
      out.push(n);
      continue;
    }
    const id = isLeaf(n) ? liveLeaves.get(content(seen))?.shift()?.node : liveLinks.get(content(seen));
    if (!isLeaf(n) && id === undefined) return undefined; // (links were paired above)
    const e = { n: { ...n, node: undefined } as U32Node, id, i };
    (buckets.get(n.ht) ?? buckets.set(n.ht, []).get(n.ht)!).push(e);
    out.push(e.n); // (its id is set below)
  }
  for (const [ht, list] of buckets) if (!bucketIds(list, taken.get(ht) ?? new Set<number>(), rb)) return undefined;
  return out;
}

/**
 * Ids for one bucket's nodes (set on each `n`): kept ones stay, new ones take a free id that
 * keeps the desired order among nodes that can match one packet differently. False when a
 * kept node is out of that order or no id fits.
 */
function bucketIds(list: Placed[], used: Set<number>, rb: Filter): boolean {
  const rbOf = (x: { i: number }) => rb.nodes[x.i]!;
  const conflict = (a: { i: number }, b: { i: number }) => result(rbOf(a)) !== result(rbOf(b)) && overlap(rbOf(a), rbOf(b));
  let top = Math.max(AUTO_NODE - 1, ...used);
  for (let j = 0; j < list.length; j++) {
    const x = list[j]!;
    let lo = 0;
    let hi = MAX_NODE + 1;
    for (let k = 0; k < list.length; k++) {
      const y = list[k]!;
      if (k === j || y.id === undefined || !conflict(x, y)) continue;
      if (k < j) lo = Math.max(lo, y.id);
      else hi = Math.min(hi, y.id);
    }
    if (x.id !== undefined) {
      if (x.id <= lo || x.id >= hi) return false;
      continue;
    }
    let id = top + 1 < hi && top + 1 > lo && top + 1 <= MAX_NODE ? top + 1 : undefined;
    for (let c = lo + 1; id === undefined && c < hi; c++) if (!used.has(c)) id = c;
    if (id === undefined) return false;
    used.add(id);
    top = Math.max(top, id);
    x.id = id;
  }
  for (const x of list) x.n.node = x.id;
  return true;
}

/** A bucket node of a filter as an object of its own. */
export const bucketNodeOf = (f: Filter, n: U32Node): BucketNode => ({
  kind: 'node',
  id: nodeId(f.dev, f.parent, f.prio, `${n.ht}${n.node!.toString(16)}`),
  ...(f.origin ? { origin: f.origin } : {}),
  dev: f.dev,
  parent: f.parent,
  protocol: f.protocol,
  prio: f.prio,
  node: n,
});

/**
 * For the plan, a filter changed node by node is what stays (its tables, links and kept
 * nodes, the same on both sides) plus its new nodes (desired) and its gone ones (live), each
 * an object of its own: the plan adds and deletes exactly those.
 */
export function splitNodes<L extends { kind: string; id: string }>(desired: KernelObject[], live: L[], inPlace: ReadonlySet<string>): { desired: KernelObject[]; live: L[] } {
  if (inPlace.size === 0) return { desired, live };
  const handle = (n: U32Node) => `${n.ht}${n.node}`;
  const wantById = new Map(desired.flatMap((o) => (o.kind === 'filter' && inPlace.has(o.id) ? [[o.id, o] as const] : [])));
  const liveById = new Map(live.flatMap((o) => (o.kind === "filter" && inPlace.has(o.id) ? [[o.id, o as unknown as Filter] as const] : [])));
  const handles = (f: Filter | undefined) => new Set((f?.nodes ?? []).flatMap((n) => (n.ht !== undefined ? [handle(n)] : [])));
  const outDesired: KernelObject[] = [];
  for (const o of desired) {
    const l = o.kind === 'filter' ? liveById.get(o.id) : undefined;
    if (!l || o.kind !== 'filter') {
      outDesired.push(o);
      continue;
    }
    const had = handles(l);
    const added = o.nodes.filter((n) => n.ht !== undefined && !had.has(handle(n)));
    outDesired.push({ ...o, nodes: o.nodes.filter((n) => !added.includes(n)) }, ...added.map((n) => bucketNodeOf(o, n)));
  }
  const outLive: L[] = [];
  for (const o of live) {
    const w = o.kind === 'filter' ? wantById.get(o.id) : undefined;
    if (!w) {
      outLive.push(o);
      continue;
    }
    const f = o as unknown as Filter;
    const has = handles(w);
    const gone = f.nodes.filter((n) => n.ht !== undefined && !has.has(handle(n)));
    outLive.push({ ...f, nodes: f.nodes.filter((n) => !gone.includes(n)) } as unknown as L, ...gone.map((n) => bucketNodeOf(f, n) as unknown as L));
  }
  return { desired: outDesired, live: outLive };
}
