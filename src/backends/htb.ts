// A shaping tree → HTB on one device: root qdisc, root class, one class per policy class,
// a leaf qdisc per leaf, and u32 filters that mirror the policy's first-match order.
// tc-htb(8): rate is guaranteed, ceil is the most a class may borrow up to.
import type { ClassNode, Match, Tree } from '../syntax/ast.js';
import type { Filter, HtbClass, KernelObject, Qdisc, U32Node } from '../model/types.js';
import { classId, filterId, qdiscId } from '../model/ids.js';
import { defaultLeaf, isLeaf, treeLabel } from '../check/walk.js';
import { CATCH_ALL_TOP, GROUP_PRIO_BASE, PRIOS_PER_CHILD } from '../check/limits.js';
import { assignMinors, hex } from './classids.js';
import { familiesOf, isFamilyFree, matchNodes } from './u32.js';

const MTU = 1514;
// u32 keeps one table list per qdisc and `tc filter show` lists every table of a prio under
// each parent, so prios are unique per device, not just per parent (layout in check/limits.ts):
// appending a top-level class never renumbers anything.
/** Unspecified class priority: the lowest, so classes given a prio come first. */
const DEFAULT_PRIO = 7;

/** bytes/s ÷ r2q 10, kept where HTB neither warns nor starves (≥ one MTU, ≤ 200 000). */
export const quantumFor = (bps: number) => Math.min(200000, Math.max(MTU, Math.floor(bps / 8 / 10)));
/** One millisecond at the rate plus a full-size frame, like tc's own default (rate/HZ + mtu). */
export const burstFor = (bps: number) => Math.ceil(bps / 8 / 1000) + 1600;
/** Leaf queue: ~100 ms at the ceiling, at least 64 packets (ifb's txqueuelen is only 32). */
export const leafLimitFor = (ceil: number) => Math.min(10000, Math.max(64, Math.ceil((ceil / 8) * 0.1 / MTU)));

interface Placed {
  node: ClassNode;
  path: string;
  classid: string;
  ceil: number;
}

export function compileTree(tree: Tree, dev: string): KernelObject[] {
  const label = treeLabel(tree);
  const placed = new Map<ClassNode, Placed>();
  const all: Array<{ node: ClassNode; path: string; ceil: number; parent?: ClassNode }> = [];
  const collect = (list: ClassNode[], prefix: string, parentCeil: number, parent?: ClassNode) => {
    for (const node of list) {
      const path = prefix ? `${prefix}/${node.name.text}` : node.name.text;
      const ceil = node.ceil?.bps ?? parentCeil;
      all.push({ node, path, ceil, parent });
      collect(node.children, path, ceil, node);
    }
  };
  collect(tree.classes, '', tree.rate.bps);
  const minors = assignMinors(all.map((c) => c.path));
  for (const c of all) placed.set(c.node, { ...c, classid: `1:${hex(minors.get(c.path)!)}` });

  const out: KernelObject[] = [];
  const def = defaultLeaf(tree.classes);
  const root: Qdisc = {
    kind: 'qdisc',
    id: qdiscId(dev, 'root'),
    origin: { path: label },
    dev,
    parent: 'root',
    handle: '1:',
    qdisc: 'htb',
    params: [['default', def ? placed.get(def)!.classid.slice(2) : '0']],
  };
  out.push(root);
  out.push(htbClass(dev, '1:1', '1:', tree.rate.bps, tree.rate.bps, DEFAULT_PRIO, undefined, label));

  for (const c of all) {
    const p = placed.get(c.node)!;
    const parent = c.parent ? placed.get(c.parent)!.classid : '1:1';
    const rate = c.node.rate?.bps ?? 0;
    out.push(
      htbClass(dev, p.classid, parent, rate, c.ceil, c.node.prio?.value ?? DEFAULT_PRIO, c.node.quantum?.value, `${label} › ${c.path.replaceAll('/', ' › ')}`),
    );
    if (isLeaf(c.node)) {
      out.push({
        kind: 'qdisc',
        id: qdiscId(dev, p.classid),
        origin: { path: `${label} › ${c.path.replaceAll('/', ' › ')}` },
        dev,
        parent: p.classid,
        handle: `${p.classid.slice(2)}:`,
        qdisc: 'pfifo',
        params: [['limit', String(leafLimitFor(c.ceil))]],
      });
    }
  }

  // Filters: at the qdisc for top-level classes, at each group for its children.
  out.push(...childFilters(dev, '1:', tree.classes, 1, placed, label));
  let nextBase = GROUP_PRIO_BASE;
  let groupIndex = 0;
  for (const c of all) {
    if (isLeaf(c.node)) continue;
    const p = placed.get(c.node)!;
    const origin = `${label} › ${c.path.replaceAll('/', ' › ')}`;
    out.push(...childFilters(dev, p.classid, c.node.children, nextBase, placed, origin));
    nextBase += c.node.children.length * PRIOS_PER_CHILD;
    // The kernel ignores an HTB `default` below the root: a group's default child needs
    // an explicit catch-all for traffic that entered the group but matched no child.
    const d = defaultLeaf(c.node.children);
    const prio = CATCH_ALL_TOP - groupIndex++;
    if (d && c.node.matches.length > 0) {
      out.push({
        kind: 'filter',
        id: filterId(dev, p.classid, prio),
        origin: { path: `${origin} (catch-all)` },
        dev,
        parent: p.classid,
        protocol: 'all',
        prio,
        nodes: [{ keys: [{ off: 0, val: 0, mask: 0 }], flowid: placed.get(d)!.classid }],
      });
    }
  }
  return out;
}

/** The match lines that lead into a class: its own, or for a group without any, its children's. */
function entryLines(c: ClassNode): Match[] {
  if (c.matches.length > 0 || isLeaf(c)) return c.matches;
  return c.children.flatMap(entryLines);
}

function childFilters(dev: string, parent: string, children: ClassNode[], firstPrio: number, placed: Map<ClassNode, Placed>, label: string): Filter[] {
  const out: Filter[] = [];
  children.forEach((child, i) => {
    const lines = entryLines(child);
    if (lines.length === 0) return;
    const flowid = placed.get(child)!.classid;
    const base = firstPrio + i * PRIOS_PER_CHILD;
    const groups: Array<['ip' | 'ipv6' | 'all', number, U32Node[]]> = [
      ['ip', base, lines.filter((m) => !isFamilyFree(m) && familiesOf(m).includes(4)).flatMap((m) => matchNodes(m, 4, flowid))],
      ['ipv6', base + 1, lines.filter((m) => !isFamilyFree(m) && familiesOf(m).includes(6)).flatMap((m) => matchNodes(m, 6, flowid))],
      ['all', base + 2, lines.filter(isFamilyFree).flatMap((m) => matchNodes(m, 'all', flowid))],
    ];
    for (const [protocol, prio, nodes] of groups) {
      if (nodes.length === 0) continue;
      out.push({
        kind: 'filter',
        id: filterId(dev, parent, prio),
        origin: { path: `${label} › ${child.name.text}` },
        dev,
        parent,
        protocol,
        prio,
        nodes,
      });
    }
  });
  return out;
}

function htbClass(dev: string, classid: string, parent: string, rate: number, ceil: number, prio: number, quantum: number | undefined, path: string): HtbClass {
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
    quantum: quantum ?? quantumFor(rate),
    burst: burstFor(rate),
    cburst: burstFor(ceil),
  };
}
