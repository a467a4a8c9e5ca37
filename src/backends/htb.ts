// A shaping tree → HTB on one device: root qdisc, root class, one class per policy class,
// a leaf qdisc per leaf, and u32 filters that mirror the policy's first-match order.
// tc-htb(8): rate is guaranteed, ceil is the most a class may borrow up to.
import type { ClassNode, LeafSpec, Match, Prefix, Tree } from '../syntax/ast.js';
import type { Filter, HtbClass, KernelObject, Qdisc, U32Node } from '../model/types.js';
import { classId, filterId, qdiscId } from '../model/ids.js';
import { defaultLeaf, treeLabel } from '../check/walk.js';
import { CATCH_ALL_TOP } from '../kernel/limits.js';
import { FAIR_LEAVES, leafParams } from '../kernel/leaf.js';
import { burstFor, cburstFor, codelFor, defaultLeafKind, fifoBytesFor, msText, MTU_FRAME, packetCapFor, quantumFor } from '../kernel/queue.js';
import { assignMinors, hex } from './classids.js';
import { groupRange, slotBase, spreadSlots, tableId, TOP_RANGE } from './prios.js';
import { familiesOf, ipv4Words, isFamilyFree, matchNodes } from './u32.js';
import { hashedNodes, type HashedRun } from './porthash.js';
import { hashRuns, runSlots, type Runs } from '../check/hashruns.js';
import { circuitLabel } from '../syntax/circuits.js';
import { prefixHashedNodes, type PrefixRun } from './prefixhash.js';

// u32 keeps one table list per qdisc and `tc filter show` lists every table of a prio under
// each parent, so prios are unique per device, not just per parent (layout in kernel/limits.ts),
// and spread with gaps (prios.ts), so a plan can insert a class without moving the others.
/** Unspecified class priority: the lowest, so classes given a prio come first. */
const DEFAULT_PRIO = 7;

export interface TreeOptions {
  /** Size table for the root qdisc (link framing). */
  stab?: Qdisc['stab'];
  /** Multiply every rate (PTM's 64/65 encoding), 1 when absent. */
  derate?: number;
  /**
   * What the target kernel has (absent: not known). The default leaf is fq_codel only where
   * it says so; `fair flows` assumes a full kernel where it is absent.
   */
  features?: ReadonlySet<string>;
  /** One full-sized frame as the line carries it (link framing), for fq_codel's target. */
  frame?: number;
}

/** The lowest ceil of any leaf class in the tree (a class without ceil has its parent's). */
function slowestCeil(tree: Tree): number {
  let low = tree.rate.bps;
  const rec = (list: ClassNode[], parentCeil: number) => {
    for (const c of list) {
      const ceil = c.ceil?.bps ?? parentCeil;
      if (c.children.length) rec(c.children, ceil);
      else if (Number.isFinite(ceil) && ceil > 0) low = Math.min(low, ceil);
    }
  };
  rec(tree.classes, tree.rate.bps);
  return low;
}

/**
 * The largest packet on a device carrying this tree: what its GSO/GRO limit lets through
 * (backends/index.ts sets it from the same figure), so HTB's cburst and quantum need no
 * 64 KiB floor on slow devices.
 */
export const treePacket = (tree: Tree, derate = 1) => packetCapFor(Math.floor(slowestCeil(tree) * derate));

/** A class as the kernel gets it: policy classes plus the per-host classes of `fair hosts`. */
interface Planned {
  node: ClassNode;
  path: string;
  ceil: number;
  parent?: Planned;
  children: Planned[];
  leaf?: LeafSpec;
  /** Lines that lead into this class from its parent's filters. */
  entry: Match[];
  /** A group without lines of its own: its children's entry lines, made once (entryLines). */
  entered?: Match[];
  /** For a `fair hosts` class: the host byte hashed on, the address word and its offset. */
  fair?: { network: number; hosts: number; off: number };
  classid: string;
}

/** What the parts of compileTree share: the device, how rates are scaled, the classes. */
interface TreeContext {
  dev: string;
  label: string;
  /** A rate as the kernel gets it: derated for the link's framing. */
  bps: (n: number) => number;
  /** The largest packet on the device (treePacket). */
  packet: number;
  byNode: Map<ClassNode, Planned>;
}

export function compileTree(tree: Tree, dev: string, opts: TreeOptions = {}): KernelObject[] {
  const derate = opts.derate ?? 1;
  const packet = treePacket(tree, derate);
  const sizing: Sizing = { packet, frame: opts.frame ?? MTU_FRAME, features: opts.features };
  const { all, top } = planClasses(tree);
  const ctx: TreeContext = { dev, label: treeLabel(tree), bps: (n) => Math.floor(n * derate), packet, byNode: new Map(all.map((c) => [c.node, c])) };
  return [...classObjects(tree, all, ctx, sizing, opts.stab), ...treeFilters(top, all, ctx)];
}

/** The tree's classes as the kernel gets them, in creation order, with their class IDs. */
function planClasses(tree: Tree): { all: Planned[]; top: Planned[] } {
  const fairBy = tree.direction === 'ingress' ? 'dst' : 'src';
  const all: Planned[] = [];
  const plan = (list: ClassNode[], prefix: string, parentCeil: number, leaf: LeafSpec | undefined, parent?: Planned): Planned[] =>
    list.map((node) => {
      const path = prefix ? `${prefix}/${node.name.text}` : node.name.text;
      const p: Planned = { node, path, ceil: node.ceil?.bps ?? parentCeil, parent, children: [], leaf: node.leaf ?? leaf, entry: node.matches, classid: '' };
      all.push(p);
      if (node.fair?.kind === 'hosts') p.children = fairHosts(p, node.fair.prefix, node.fair.by ?? fairBy, all);
      else if (node.children.length > 0) p.children = plan(node.children, path, p.ceil, p.leaf, p);
      return p;
    });
  const top = plan(tree.classes, '', tree.rate.bps, tree.leaf);
  const minors = assignMinors(all.map((c) => c.path));
  for (const c of all) c.classid = `1:${hex(minors.get(c.path)!)}`;
  return { all, top };
}

/** One class per host of the prefix, equal shares of the class (added to `all`); a hash table picks them. */
function fairHosts(p: Planned, prefix: Prefix, by: 'src' | 'dst', all: Planned[]): Planned[] {
  const hosts = 2 ** (32 - prefix.length);
  const network = (ipv4Words(prefix.address) & (prefix.length === 0 ? 0 : 0xffffffff << (32 - prefix.length))) >>> 0;
  p.fair = { network, hosts, off: by === 'src' ? 12 : 16 };
  // Without match lines of its own, the class takes the traffic of its hosts.
  if (p.entry.length === 0) p.entry = [{ criteria: [{ kind: 'addr', dir: by, prefixes: [prefix], span: prefix.span }], span: p.node.span }];
  const rate = Math.max(8, Math.floor((p.node.rate?.bps ?? 0) / hosts));
  return Array.from({ length: hosts }, (_, i) => {
    const addr = [24, 16, 8, 0].map((sh) => ((network + i) >>> sh) & 255).join('.');
    const node: ClassNode = { name: { text: addr, span: p.node.span }, rate: { bps: rate, span: p.node.span }, prio: p.node.prio, matches: [], children: [], span: p.node.span };
    const h: Planned = { node, path: `${p.path}/${addr}`, ceil: p.ceil, parent: p, children: [], leaf: p.leaf, entry: [], classid: '' };
    all.push(h);
    return h;
  });
}

/** How plans name a class: the tree's label, its path, and its circuit. */
const originOf = (label: string, c: Planned) => `${label} › ${c.path.replaceAll('/', ' › ')}${circuitLabel(c.node)}`;

/** The root qdisc and class, then every class with its leaf qdisc. */
function classObjects(tree: Tree, all: Planned[], ctx: TreeContext, sizing: Sizing, stab: TreeOptions['stab']): KernelObject[] {
  const { dev, label, bps, packet } = ctx;
  const def = defaultLeaf(tree.classes);
  const out: KernelObject[] = [];
  out.push({
    kind: 'qdisc',
    id: qdiscId(dev, 'root'),
    origin: { path: label },
    dev,
    parent: 'root',
    handle: '1:',
    qdisc: 'htb',
    params: [['default', def ? ctx.byNode.get(def)!.classid.slice(2) : '0']],
    ...(stab ? { stab } : {}),
  });
  out.push(htbClass(dev, '1:1', '1:', bps(tree.rate.bps), bps(tree.rate.bps), DEFAULT_PRIO, undefined, label, packet));
  for (const c of all) {
    const rate = bps(c.node.rate?.bps ?? 0);
    const from = originOf(label, c);
    out.push(htbClass(dev, c.classid, c.parent?.classid ?? '1:1', rate, bps(c.ceil), c.node.prio?.value ?? DEFAULT_PRIO, c.node.quantum?.value, from, packet));
    if (c.children.length === 0) out.push(leafQdisc(dev, c, bps(c.ceil), from, sizing));
  }
  return out;
}

/**
 * Filters: at the qdisc for top-level classes, at each group for its children. Every child
 * has a slot of prios, spread over its range (prios.ts); a group's children's slots follow
 * one another in one range shared by all groups of the device.
 */
function treeFilters(top: Planned[], all: Planned[], ctx: TreeContext): KernelObject[] {
  const { dev, label } = ctx;
  const out: KernelObject[] = [];
  const tables = new Set<number>();
  const bases = (n: number, range: typeof TOP_RANGE) => spreadSlots(n, range).map((u) => slotBase(range, u));
  // A hashed run of classes (check/hashruns.ts) takes one slot, however many classes it holds.
  const runsOf = new Map<Planned[], Runs<Planned>>();
  const runs = (children: Planned[]) => runsOf.get(children) ?? runsOf.set(children, hashRuns(children, entryLines)).get(children)!;
  out.push(...childFilters(dev, '1:', top, runs(top), bases(runSlots(top, runs(top)), TOP_RANGE), label, tables));
  const groups = all.filter((c) => c.children.length > 0);
  const nested = bases(groups.reduce((n, c) => n + (c.fair ? 1 : runSlots(c.children, runs(c.children))), 0), groupRange(groups.length));
  let next = 0;
  let groupIndex = 0;
  for (const c of groups) {
    if (c.fair) {
      out.push(fairFilter(dev, c, nested[next++]!, tableId(dev, c.path, tables), originOf(label, c)));
      continue;
    }
    const slots = runSlots(c.children, runs(c.children));
    out.push(...childFilters(dev, c.classid, c.children, runs(c.children), nested.slice(next, next + slots), originOf(label, c), tables));
    next += slots;
    const catchAll = groupCatchAll(c, CATCH_ALL_TOP - groupIndex++, ctx);
    if (catchAll) out.push(catchAll);
  }
  return out;
}

/**
 * The kernel ignores an HTB `default` below the root: a group's default child needs an
 * explicit catch-all for traffic that entered the group but matched no child.
 */
function groupCatchAll(c: Planned, prio: number, ctx: TreeContext): Filter | undefined {
  const d = defaultLeaf(c.node.children);
  if (!d || c.node.matches.length === 0) return undefined;
  return {
    kind: 'filter',
    id: filterId(ctx.dev, c.classid, prio),
    origin: { path: `${originOf(ctx.label, c)} (catch-all)` },
    dev: ctx.dev,
    parent: c.classid,
    protocol: 'all',
    prio,
    nodes: [{ keys: [{ off: 0, val: 0, mask: 0 }], flowid: ctx.byNode.get(d)!.classid }],
  };
}

/** `fair hosts`: one node hashes the host byte into a 256-bucket table, one node per host. */
function fairFilter(dev: string, c: Planned, prio: number, table: number, origin: string): Filter {
  const { network, hosts, off } = c.fair!;
  const h = hex(table);
  const mask = (hosts - 1) >>> 0;
  const netmask = (~mask) >>> 0;
  const nodes: U32Node[] = [{ keys: [{ off, val: network, mask: netmask }], hashkey: { mask: mask, at: off }, link: `${h}:` }];
  c.children.forEach((child, i) => {
    nodes.push({ ht: `${h}:${hex(i)}:`, keys: [{ off, val: (network + i) >>> 0, mask: 0xffffffff }], flowid: child.classid });
  });
  return {
    kind: 'filter',
    id: filterId(dev, c.classid, prio),
    origin: { path: `${origin} (per host)` },
    dev,
    parent: c.classid,
    protocol: 'ip',
    prio,
    tables: [{ handle: `${h}:`, divisor: hosts }],
    nodes,
  };
}

/** One object literal per leaf qdisc (fields in this order), not a base object spread into it. */
function leafObject(dev: string, classid: string, origin: string, qdisc: Qdisc['qdisc'], params: Qdisc['params']): Qdisc {
  return { kind: 'qdisc', id: qdiscId(dev, classid), origin: { path: origin }, dev, parent: classid, handle: `${classid.slice(2)}:`, qdisc, params };
}

/** What a leaf's size follows: the device's largest packet, a frame on the line, the kernel. */
interface Sizing {
  packet: number;
  frame: number;
  features?: ReadonlySet<string>;
}

function leafQdisc(dev: string, c: Planned, ceil: number, origin: string, sizing: Sizing): Qdisc {
  const leaf = (qdisc: Qdisc['qdisc'], params: Qdisc['params']) => leafObject(dev, c.classid, origin, qdisc, params);
  /**
   * fq_codel's target and interval unless given: raised where one frame outlasts 5 ms. Its
   * quantum unless given: the kernel's default is the device's MTU with its header (1492 on
   * ppp0, more on an imq device), so a fixed one keeps flows fair alike everywhere and lets
   * the plan compare it (state/codel.ts).
   */
  const codel = (given: Qdisc['params']): Qdisc['params'] => {
    const withQuantum: Qdisc['params'] = given.some(([k]) => k === 'quantum') ? given : [...given, ['quantum', String(MTU_FRAME)]];
    if (given.some(([k]) => k === 'target' || k === 'interval')) return withQuantum;
    const { target, interval } = codelFor(ceil, sizing.frame);
    return target > 0.005 ? [...withQuantum, ['target', msText(target)], ['interval', msText(interval)]] : withQuantum;
  };
  const spec = c.leaf;
  if (c.node.fair?.kind === 'flows' && (!spec || !FAIR_LEAVES.includes(spec.kind.text as 'sfq'))) {
    const kind = FAIR_LEAVES.find((k) => !sizing.features || sizing.features.has(k)) ?? 'fq_codel';
    return leaf(kind, kind === 'fq_codel' ? codel([]) : []);
  }
  const fifoBytes = fifoBytesFor(ceil, sizing.packet);
  if (!spec) return defaultLeafKind(sizing.features) === 'fq_codel' ? leaf('fq_codel', codel([])) : leaf('bfifo', [['limit', String(fifoBytes)]]);
  const args = leafParams(spec.kind.text, spec.args.map((a) => a.text));
  if (spec.kind.text === 'pfifo' || spec.kind.text === 'bfifo') {
    // A FIFO without a limit would inherit the device's txqueuelen (32 on an ifb).
    const limit = spec.kind.text === 'bfifo' ? fifoBytes : Math.max(2, Math.ceil(fifoBytes / MTU_FRAME));
    return leaf(spec.kind.text, args.length ? args : [['limit', String(limit)]]);
  }
  return leaf(spec.kind.text as Qdisc['qdisc'], spec.kind.text === 'fq_codel' ? codel(args) : args);
}

function childFilters(dev: string, parent: string, children: Planned[], runs: Runs<Planned>, bases: number[], label: string, tables: Set<number>): Filter[] {
  const out: Filter[] = [];
  const filter = (protocol: Filter['protocol'], prio: number, origin: string, nodes: U32Node[], t?: Filter['tables']) => {
    if (nodes.length) out.push({ kind: 'filter', id: filterId(dev, parent, prio), origin: { path: origin }, dev, parent, protocol, prio, ...(t?.length ? { tables: t } : {}), nodes });
  };
  let slot = 0;
  children.forEach((child, i) => {
    const spec = runs.get(i);
    if (spec === 'hashed') return; // classified by the run's tables, in the run's one slot
    const base = bases[slot++]!;
    if (spec) {
      const run = { kind: spec.kind, run: { dir: spec.dir, classes: spec.classes.map((k) => ({ flowid: k.child.classid, lines: k.lines })) } } as { kind: 'port'; run: HashedRun } | { kind: 'prefix'; run: PrefixRun };
      const last = children[i + run.run.classes.length - 1]!;
      const origin = `${label} › ${child.node.name.text} … ${last.node.name.text} (by ${run.kind})`;
      const table = (key: string) => tableId(dev, `${parent}/${base}/${key}`, tables);
      if (run.kind === 'port') {
        for (const [family, protocol, prio] of [[4, 'ip', base], [6, 'ipv6', base + 1]] as const) {
          const { tables: t, nodes } = hashedNodes(run.run, family, (proto) => table(`${family}/${proto}`));
          filter(protocol, prio, origin, nodes, t);
        }
      } else {
        for (const [family, protocol, prio] of [[4, 'ip', base], [6, 'ipv6', base + 1]] as const) {
          const { tables: t, nodes } = prefixHashedNodes(run.run, family, (key) => table(`${family}/addr${key}`));
          filter(protocol, prio, origin, nodes, t);
        }
      }
      return;
    }
    const lines = entryLines(child);
    const flowid = child.classid;
    const origin = `${label} › ${child.node.name.text}`;
    filter('ip', base, origin, lines.filter((m) => !isFamilyFree(m) && familiesOf(m).includes(4)).flatMap((m) => matchNodes(m, 4, flowid)));
    filter('ipv6', base + 1, origin, lines.filter((m) => !isFamilyFree(m) && familiesOf(m).includes(6)).flatMap((m) => matchNodes(m, 6, flowid)));
    filter('all', base + 2, origin, lines.filter(isFamilyFree).flatMap((m) => matchNodes(m, 'all', flowid)));
  });
  return out;
}

/** The match lines that lead into a class: its own, or for a group without any, its children's. */
function entryLines(c: Planned): Match[] {
  if (c.entry.length > 0 || c.children.length === 0) return c.entry;
  // Asked for every way a run can hash and every filter: a site's are all its circuits' lines.
  return (c.entered ??= c.children.flatMap(entryLines));
}

function htbClass(dev: string, classid: string, parent: string, rate: number, ceil: number, prio: number, quantum: number | undefined, path: string, packet: number): HtbClass {
  return {
    kind: 'class',
    id: classId(dev, classid),
    origin: { path },
    dev,
    classid,
    parent,
    rate,
    ceil,
    prio,
    quantum: quantum ?? quantumFor(rate, packet),
    burst: burstFor(rate),
    cburst: cburstFor(ceil, packet),
  };
}

