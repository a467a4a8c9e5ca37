import { filterId, type Filter, type U32Node } from '../model/index.js';
import { addUnmodeled, type LiveFilter } from './live.js';
import { hex8, readEntries, type Entry, type Item, type NodeItem } from './filter-entries.js';

// The entries of one `tc filter show` listing (filter-entries.ts) grouped into one Filter
// per (chain, prio), u32 nodes in the order the kernel tries them.

export interface ParseFiltersOptions {
  /**
   * The root hash table (htid, e.g. 0x800) of the u32 filter at each prio, from
   * `tc filter get dev D parent P prio N protocol X handle fff: u32`. Needed only when
   * several parents of one qdisc have u32 filters at the same prio: u32 keeps its tables
   * per qdisc and `tc filter show` lists every table of that prio under each of them.
   */
  rootTables?: ReadonlyMap<number, number>;
}

/**
 * The filters at one parent of one device.
 *
 * `parent` is the model's parent key: a classid (`1:`, `1:a3`) or `ingress` / `egress`.
 * `text` is the output of `tc -j filter show dev DEV parent P` (or `… ingress|egress`);
 * where it is not JSON even for the lenient reader, it is read as the text output of
 * `tc filter show`, which this function also accepts directly.
 *
 * u32 nodes at one prio become one Filter (id filterId(dev, parent, prio)) whose nodes
 * are the root table's nodes in handle order (the order the kernel tries them), then the
 * nodes of qospolicy's own hash tables (ids below 0x800) with their `ht` bucket; links and
 * hash keys are read too. Variable offsets, other actions and other classifiers are kept in `unmodeled`,
 * so a plan can show them and replace or remove the filter.
 */
export function parseFilters(dev: string, parent: string, text: string, opts: ParseFiltersOptions = {}): LiveFilter[] {
  const key = `${dev} ${parent} ${opts.rootTables ? [...opts.rootTables].join() : ''}`;
  const last = lastRead.get(key);
  if (last?.text === text) return last.filters;
  const filters = group(dev, parent, readEntries(text), opts);
  lastRead.set(key, { text, filters });
  return filters;
}

// The last listing read at each parent and what it gave. Verifying an apply reads a device
// again, and most of its listings are as they were (a rate change leaves all the filters):
// the same text gives the same filters, and filters read are never changed afterwards.
// (A listing is compared whole: ~5 MB for 20 000 u32 nodes, a millisecond.)
const lastRead = new Map<string, { text: string; filters: LiveFilter[] }>();

/** The root table of the u32 filter in `tc -j filter get … handle fff: u32` output, if any. */
export function parseRootTable(text: string): number | undefined {
  const table = readEntries(text).find((e) => e.item.t === 'table');
  return table?.item.t === 'table' ? table.item.htid : undefined;
}

// ---- grouping ----

/** Tables with these ids are allocated by the kernel (one per u32 tcf_proto); user tables are below. */
const AUTO_HTID_MIN = 0x800;
const PROTOCOLS = new Set(['ip', 'ipv6', 'all']);

function group(dev: string, parent: string, entries: Entry[], opts: ParseFiltersOptions): LiveFilter[] {
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    const key = `${e.chain}/${e.prio}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(e);
  }
  const out: LiveFilter[] = [];
  for (const list of groups.values()) {
    const first = list[0]!;
    const f: LiveFilter = {
      kind: 'filter',
      id: filterId(dev, parent, first.prio) + (first.chain === 0 ? '' : `/chain${first.chain}`),
      dev,
      parent,
      protocol: first.protocol as Filter['protocol'],
      prio: first.prio,
      nodes: [],
    };
    if (!PROTOCOLS.has(first.protocol)) addUnmodeled(f, 'protocol', first.protocol);
    if (first.chain !== 0) addUnmodeled(f, 'chain', String(first.chain));
    if (first.kind === 'u32') u32Nodes(f, list, opts.rootTables?.get(first.prio));
    else {
      addUnmodeled(f, 'classifier', first.kind);
      for (const e of list) if (e.item.t === 'other') addUnmodeled(f, 'raw', e.item.raw);
    }
    out.push(f);
  }
  return out;
}

function u32Nodes(f: LiveFilter, list: Entry[], knownRoot: number | undefined): void {
  const items = list.map((e) => e.item);
  const tables = items.filter((i): i is Extract<Item, { t: 'table' }> => i.t === 'table');
  const autoTables = tables.filter((t) => t.htid >= AUTO_HTID_MIN);
  const listed = items.filter((i): i is NodeItem => i.t === 'node');
  // The kernel lists a prio's tables newest first: the filter's own root table, created
  // with the filter, is the last automatic one.
  const root = knownRoot ?? autoTables.at(-1)?.htid;
  if (knownRoot === undefined && autoTables.length > 1)
    addUnmodeled(f, 'u32-tables', `tables ${autoTables.map((t) => `${t.htid.toString(16)}:`).join(' ')} at prio ${f.prio} are listed under several parents`);
  const foreignRoots = new Set<number>();
  for (const t of autoTables) if (t.htid !== root) foreignRoots.add(t.htid);
  for (const t of tables) if (t.htid >= AUTO_HTID_MIN && t.htid !== root && !foreignRoots.has(t.htid)) addUnmodeled(f, 'u32-table', t.text);

  // Tables qospolicy creates itself (ids below the kernel's automatic 0x800…): hash tables.
  const userTables = tables.filter((t) => t.htid < AUTO_HTID_MIN);
  if (userTables.length) f.tables = userTables.map((t) => ({ handle: `${t.htid.toString(16)}:`, divisor: t.divisor })).sort((a, b) => parseInt(a.handle, 16) - parseInt(b.handle, 16));

  // Root-table nodes first (the kernel starts there), then hash-table nodes by table and bucket.
  const order = (ht: number) => (ht === root ? -1 : ht);
  const nodes = foreignRoots.size ? listed.filter((n) => !foreignRoots.has(n.handle.ht)) : listed;
  nodes.sort((a, b) => order(a.handle.ht) - order(b.handle.ht) || a.handle.bkt - b.handle.bkt || a.handle.node - b.handle.node);
  for (const n of nodes) {
    const inUserTable = n.handle.ht < AUTO_HTID_MIN;
    if (n.handle.ht !== root && !inUserTable) {
      addUnmodeled(f, 'u32-node', `${n.text} ${describeNode(n)}`);
      continue;
    }
    const node: U32Node = { keys: n.keys };
    if (inUserTable) {
      node.ht = `${n.handle.ht.toString(16)}:${n.handle.bkt.toString(16)}:`;
      node.node = n.handle.node;
    }
    if (n.mark) node.mark = n.mark;
    if (n.hashkey) node.hashkey = n.hashkey;
    if (n.link) node.link = n.link;
    if (n.flowid) node.flowid = n.flowid;
    const actions = n.actions;
    let first = 0;
    if (typeof actions[0] === 'object' && actions[0].kind === 'connmark' && actions.length > 1) {
      node.connmark = true;
      first = 1;
    }
    const action = actions[first];
    if (typeof action === 'object' && action.kind !== 'connmark') node.action = action;
    else if (action !== undefined) addUnmodeled(f, `${n.text} action`, typeof action === 'string' ? action : 'connmark');
    for (const a of actions.slice(first + 1)) addUnmodeled(f, `${n.text} action`, typeof a === 'string' ? a : JSON.stringify(a));
    for (const [key, value] of n.extra) addUnmodeled(f, `${n.text} ${key}`, value);
    f.nodes.push(node);
  }
}

function describeNode(n: NodeItem): string {
  const parts = n.keys.map((k) => `match ${hex8(k.val)}/${hex8(k.mask)} at ${k.off}`);
  if (n.flowid) parts.push(`flowid ${n.flowid}`);
  if (n.link) parts.push(`link ${n.link}`);
  return parts.join(' ');
}

