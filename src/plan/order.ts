// The order of a plan, in one place: the order removals are listed in, and the order the
// steps run in. Orders are between kinds, so they are tables here rather than parts of
// each kind; a kind added to the registry must get its row (the tables are typed by kind).
import { classId } from '../model/ids.js';
import type { KindName, ObjectOf } from '../kinds/index.js';
import type { LiveItem, Scope } from '../state/index.js';
import { createSteps, deleteSteps, updateSteps } from './steps.js';
import type { Change, Phase, PlanObject, Step } from './types.js';

type PerKind<T> = { [K in KindName]: (o: ObjectOf<K>) => T };
const per = <T>(table: PerKind<T>, o: PlanObject): T => (table[o.kind] as (o: PlanObject) => T)(o);

/** A class's depth under the root: children are removed before their parents. */
export function classDepth(liveById: Map<string, LiveItem>): (o: LiveItem) => number {
  return (o) => {
    let d = 0;
    if (o.kind !== 'class') return 0;
    for (let p = liveById.get(classId(o.dev, o.parent)); p && p.kind === 'class' && d < liveById.size; p = liveById.get(classId(p.dev, p.parent))) d++;
    return d;
  };
}

/**
 * How deep a filter hangs: 0 on a qdisc, a class's depth + 1 on a class. Filters are removed
 * nearer the root first: when a circuit moves to another site, the top's old node (to the old
 * site) goes before the old site's node (to the circuit), so the new path takes over at once
 * instead of the packets falling through the old site to the default class between the two.
 */
function filterDepth(liveById: Map<string, LiveItem>, depth: (o: LiveItem) => number): (o: LiveItem) => number {
  return (o) => {
    if (o.kind !== 'filter' && o.kind !== 'node') return 0;
    const parent = liveById.get(classId(o.dev, o.parent));
    return parent?.kind === 'class' ? depth(parent) + 1 : 0;
  };
}

const hexId = (classid: string) => {
  const [maj, min] = classid.split(':');
  return parseInt(maj || '0', 16) * 0x10000 + parseInt(min || '0', 16);
};
const isHook = (parent: string) => parent === 'ingress' || parent === 'egress';

/**
 * An order of live objects that does not depend on how they were listed (the live reader
 * and a diff's assumed state list them differently): per device, the device, its root,
 * classes (parents first, then by classid), leaf qdiscs, filters (by parent and prio), the
 * hook and its filters; then chains, each followed by its rules; then the rest.
 */
export function canonicalOrder(depth: (o: LiveItem) => number): (a: LiveItem, b: LiveItem) => number {
  const key: PerKind<Array<string | number>> = {
    link: (o) => [0, o.name, 0],
    qdisc: (o) => (o.parent === 'root' ? [0, o.dev, 1] : o.parent === 'ingress' ? [0, o.dev, 5] : [0, o.dev, 3, hexId(o.parent)]),
    class: (o) => [0, o.dev, 2, depth(o), hexId(o.classid)],
    filter: (o) => (isHook(o.parent) ? [0, o.dev, 6, o.parent, o.prio] : [0, o.dev, 4, hexId(o.parent), o.prio, o.id]),
    node: (o) => [0, o.dev, 4, hexId(o.parent), o.prio, o.id],
    chain: (o) => [1, o.family, o.chain, 0],
    iptables: (o) => [1, o.family, o.chain, 1, o.id],
    module: (o) => [2, o.id],
    sysfs: (o) => [2, o.id],
  };
  // Keys are computed once per object, not once per comparison (measured: the sort of a 1 000-class teardown).
  const keys = new Map<LiveItem, Array<string | number>>();
  const keyOf = (o: LiveItem) => keys.get(o) ?? keys.set(o, per(key, o)).get(o)!;
  return (a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const p = x[i];
      const q = y[i];
      if (p === q) continue;
      if (p === undefined) return -1;
      if (q === undefined) return 1;
      if (typeof p === 'number' && typeof q === 'number') return p - q;
      return String(p) < String(q) ? -1 : 1;
    }
    return 0;
  };
}

/** Removal steps by kind: filters, classes (children first), leaf qdiscs, roots and hooks, rules, chains, links. */
const REMOVAL_RANK: PerKind<number> = {
  filter: () => 0,
  node: () => 0,
  class: () => 1,
  qdisc: (o) => (o.parent === 'root' || o.parent === 'ingress' ? 3 : 2),
  iptables: () => 4,
  chain: () => 5,
  link: () => 6,
  module: () => 7,
  sysfs: () => 7,
};

export interface StepInput {
  changes: Change[];
  wanted: PlanObject[];
  liveById: Map<string, LiveItem>;
  /** Live objects removed by a command of their own. */
  removed: LiveItem[];
  depth: (o: LiveItem) => number;
  order: (a: LiveItem, b: LiveItem) => number;
  scope: Scope;
}

/** Every command in the order it runs: removals, in-place changes, creations; then device by device (byDevice). */
export function stepsOf({ changes, wanted, liveById, removed, depth, order, scope }: StepInput): Step[] {
  /** The change of each id (the last, should a hand-made state repeat an id): steps point at it. */
  const index = new Map(changes.map((c, i) => [c.id, i]));
  const changeOf = (id: string) => changes[index.get(id) ?? changes.length];
  const steps: Step[] = [];
  const add = (o: PlanObject, argvs: Array<{ tool: Step['tool']; argv: string[] }>, phase: Phase) => {
    for (const a of argvs) steps.push({ tool: a.tool, argv: a.argv, change: index.get(o.id)!, phase });
  };
  const rootward = filterDepth(liveById, depth);
  const removals = [...removed].sort((a, b) => per(REMOVAL_RANK, a) - per(REMOVAL_RANK, b) || rootward(a) - rootward(b) || depth(b) - depth(a) || order(a, b));
  for (const o of removals) add(o, deleteSteps(o), 'delete');
  for (const obj of wanted) {
    const c = changeOf(obj.id);
    if (c?.action === 'update' && !c.manual) add(obj, updateSteps(obj, liveById.get(obj.id)!, c.fields ?? []), 'update');
  }
  for (const obj of wanted) {
    const c = changeOf(obj.id);
    if (c?.action === 'create' || c?.action === 'replace') add(obj, createSteps(obj), 'create');
  }
  return byDevice(steps, changes, scope);
}

/**
 * Steps device by device, so that a run cut short (killed, a power cut) leaves at most one
 * device mid-change and every other one either as it was or as planned: modules and new
 * devices first (a redirect needs its target), then each ifb/imq device's tree, then each
 * interface's (its redirects now find their trees), then the mangle chains, then devices
 * that go, then sysfs figures. Within a device the order stays removals, in-place changes,
 * creations. A stable sort: the order within a group is the one built above.
 */
function byDevice(steps: Step[], changes: Change[], scope: Scope): Step[] {
  const own = new Set([...scope.links.map((l) => l.name), ...changes.flatMap((c) => (c.kind === 'link' && c.after?.kind === 'link' && c.after.type !== 'require' ? [c.after.name] : []))]);
  const group = (s: Step): [number, string] => {
    const o = (changes[s.change]!.after ?? changes[s.change]!.before)!;
    return (DEVICE_GROUP[o.kind] as (o: PlanObject, s: Step, own: Set<string>) => [number, string])(o, s, own);
  };
  const keyed = steps.map((s, i) => ({ s, i, k: group(s) }));
  keyed.sort((a, b) => a.k[0] - b.k[0] || (a.k[1] < b.k[1] ? -1 : a.k[1] > b.k[1] ? 1 : 0) || a.i - b.i);
  return keyed.map((x) => x.s);
}

/** A step's group (see byDevice) and the device it belongs to; `own`: ifb/imq devices of the policy. */
const tree = (dev: string, own: Set<string>): [number, string] => [own.has(dev) ? 2 : 3, dev];
const DEVICE_GROUP: { [K in KindName]: (o: ObjectOf<K>, s: Step, own: Set<string>) => [number, string] } = {
  module: () => [0, ''],
  link: (o, s) => (s.phase === 'delete' ? [5, o.name] : [1, '']),
  qdisc: (o, _s, own) => tree(o.dev, own),
  class: (o, _s, own) => tree(o.dev, own),
  filter: (o, _s, own) => tree(o.dev, own),
  node: (o, _s, own) => tree(o.dev, own),
  chain: () => [4, ''],
  iptables: () => [4, ''],
  sysfs: () => [6, ''],
};
