// The compiler's one entry: a checked policy → the desired state, objects in creation
// order. Each target lives in its own file; this one assigns devices and orders objects.
import type { Policy, Tree } from '../syntax/ast.js';
import type { DesiredState, IptablesRule, KernelObject, Link, ModuleLoad } from '../model/types.js';
import { iptablesId, linkId, moduleId } from '../model/ids.js';
import type { Settings } from '../check/index.js';
import { treeLabel } from '../check/index.js';
import { compileTree, treePacket, type TreeOptions } from './htb.js';
import { GSO_MAX } from '../kernel/queue.js';
import { hookQdisc, imqRules, mirredFilter } from './redirect.js';
import { compileTaprio, compileTdmaModule } from './tdma.js';
import { netqosWrites } from './netqos.js';
import { frameOnLine, sizeTable } from './framing.js';

/** A tree that needs a device of its own (ifb or imq), with the members steered into it. */
interface Redirected {
  tree: Tree;
  backend: 'ifb' | 'imq';
  members: string[];
}

/** Whether a tree classifies by conntrack mark (`match connmark`). */
const usesConnmark = (t: Tree): boolean => {
  const rec = (list: Tree['classes']): boolean =>
    list.some((c) => c.matches.some((m) => m.criteria.some((k) => k.kind === 'mark' && k.conntrack)) || rec(c.children));
  return rec(t.classes);
};

/** Where each device's redirect and clsact hooks lead: tc filters and the clsact qdisc. */
type Hooks = Map<string, { ingress?: string; egress?: string; connmark?: boolean; clsact?: boolean }>;

/** Records that a link must exist (with at least this many TX queues). */
type Require = (name: string, minTxQueues?: number) => void;

type TreeOptionsOf = (t: Tree, dev: string) => TreeOptions;

export function compile(policy: Policy, settings: Settings): DesiredState {
  const features = targetFeatures(settings);
  const treeOptions: TreeOptionsOf = (t, dev) => {
    const f = framed(policy, t, dev);
    return { ...f, features, frame: frameOnLine(f.stab) };
  };
  const { links, require } = requiredLinks(policy, packetLimits(policy));
  for (const i of policy.interfaces) if (i.ingress || i.egress) require(i.name.text);
  const hooks: Hooks = new Map();
  const redirect = compileRedirected(redirectedTrees(policy, settings), require, hooks, treeOptions);
  const egress = policy.interfaces.flatMap((i) => (i.egress ? compileTree(i.egress, i.name.text, treeOptions(i.egress, i.name.text)) : []));
  const tdma = compileTdma(policy, settings, require, hooks);
  const hooked = hookObjects(hooks);
  const sysfs = policy.interfaces.flatMap(netqosWrites);
  return {
    objects: dedupe([...links.values(), ...redirect.modules, ...tdma.modules, ...redirect.created, ...redirect.trees, ...egress, ...hooked, ...redirect.iptables, ...tdma.objects, ...sysfs]),
    notes: [...links.values()].filter((l) => l.minTxQueues).map((l) => `${l.name} must have at least ${l.minTxQueues} TX queues for taprio (a veth: ip link add … numtxqueues ${l.minTxQueues}).`),
  };
}

/**
 * What the target has: the declared features (or the --target override's), and of those
 * (or of all) what the running kernel was found to have.
 */
function targetFeatures(settings: Settings): ReadonlySet<string> | undefined {
  const declared = settings.features;
  const kernel = settings.kernel;
  return declared && kernel ? new Set([...declared].filter((f) => kernel.has(f))) : (kernel ?? declared);
}

const framingOf = (policy: Policy, dev: string) => policy.interfaces.find((i) => i.name.text === dev)?.link?.framing;

/** Size table and derating for a tree: its interface's framing (shared groups have none). */
const framed = (policy: Policy, t: Tree, dev: string) => (t.owner.kind === 'interface' ? sizeTable(framingOf(policy, t.owner.name.text), t.owner.name.text, dev) : { derate: 1 });

/**
 * Packets kept short on slow devices: where a 64 KiB GSO packet would hold a tree's
 * slowest class for more than PACKET_TIME, the interfaces that feed the tree carry packets
 * of at most that long (kernel/queue.ts packetCapFor):
 * - an egress tree's own interface: gso_max_size, the packets the router's own TCP builds;
 * - every interface the policy names but this one (forwarded traffic arrives there):
 *   gro_max_size, the packets GRO merges before they are forwarded and queued whole;
 * - an ingress tree's interface: gro_max_size, merged before the redirect to its device.
 * Forwarded traffic from interfaces the policy does not name is out of reach (docs).
 */
function packetLimits(policy: Policy): Map<string, PacketLimits> {
  const limits = new Map<string, PacketLimits>();
  const limit = (iface: string, field: keyof PacketLimits, cap: number) => {
    const prev = limits.get(iface) ?? {};
    limits.set(iface, { ...prev, [field]: Math.min(prev[field] ?? GSO_MAX, cap) });
  };
  const named = [...new Set([...policy.interfaces.filter((i) => i.ingress || i.egress).map((i) => i.name.text), ...policy.shared.flatMap((s) => s.members.map((m) => m.text))])];
  const limitPackets = (t: Tree, members: string[]) => {
    const cap = treePacket(t, t.owner.kind === 'interface' ? framed(policy, t, members[0]!).derate : 1);
    if (cap >= GSO_MAX) return;
    for (const iface of named) {
      if (t.direction === 'ingress') {
        if (members.includes(iface)) limit(iface, 'groMaxSize', cap);
      } else if (members.includes(iface)) limit(iface, 'gsoMaxSize', cap);
      else limit(iface, 'groMaxSize', cap);
    }
  };
  for (const i of policy.interfaces) {
    if (i.egress) limitPackets(i.egress, [i.name.text]);
    if (i.ingress) limitPackets(i.ingress, [i.name.text]);
  }
  for (const s of policy.shared) limitPackets(s.tree, s.members.map((m) => m.text));
  return limits;
}

interface PacketLimits {
  gsoMaxSize?: number;
  groMaxSize?: number;
}

/** The links the policy needs, in the order first required, each with its settings. */
function requiredLinks(policy: Policy, limits: Map<string, PacketLimits>): { links: Map<string, Link>; require: Require } {
  const links = new Map<string, Link>();
  const require: Require = (name, minTxQueues) => {
    const prev = links.get(name);
    const q = Math.max(prev?.minTxQueues ?? 0, minTxQueues ?? 0);
    // `exact` accounting: the router's own packets leave in single segments, so the size
    // table counts every frame (forwarded GRO packets are not split: docs/language.md).
    const gso = framingOf(policy, name)?.exact ? { gsoMaxSegs: 1 } : {};
    links.set(name, { kind: 'link', id: linkId(name), name, type: 'require', ...(q ? { minTxQueues: q } : {}), ...gso, ...limits.get(name) });
  };
  return { links, require };
}

/** The trees that need a device of their own, in file order. */
function redirectedTrees(policy: Policy, settings: Settings): Redirected[] {
  const redirected: Redirected[] = [];
  for (const i of policy.interfaces) {
    if (i.ingress) redirected.push({ tree: i.ingress, backend: i.ingress.backend ?? settings.ingress, members: [i.name.text] });
  }
  for (const s of policy.shared) {
    redirected.push({ tree: s.tree, backend: settings.ingress, members: s.members.map((m) => m.text) });
  }
  // Device numbers follow file order, so appending a tree never renumbers the others.
  return redirected.sort((a, b) => a.tree.span.start.offset - b.tree.span.start.offset);
}

/**
 * Each redirected tree on its own ifb/imq device: the device, its tree, the module that
 * makes the devices, and how its members' traffic gets there (hooks for ifb, iptables for imq).
 */
function compileRedirected(redirected: Redirected[], require: Require, hooks: Hooks, treeOptions: TreeOptionsOf) {
  const created: Link[] = [];
  const trees: KernelObject[] = [];
  const iptables: KernelObject[] = [];
  const counters = { ifb: 0, imq: 0 };
  for (const r of redirected) {
    const n = counters[r.backend]++;
    const dev = `${r.backend}${n}`;
    const label = treeLabel(r.tree);
    created.push({ kind: 'link', id: linkId(dev), origin: { path: label }, name: dev, type: r.backend });
    // One by one: a tree of 64 000 circuits is 130 000 objects, too many arguments for a spread.
    for (const o of compileTree(r.tree, dev, treeOptions(r.tree, dev))) trees.push(o);
    // tc ingress runs before conntrack: restore the conntrack mark before the redirect.
    const connmark = r.backend === 'ifb' && r.tree.direction === 'ingress' && usesConnmark(r.tree);
    if (connmark) iptables.push(...saveMarkRules(label));
    for (const m of r.members) {
      require(m);
      if (r.backend === 'imq') iptables.push(...imqRules(m, r.tree.direction, n, label));
      else hooks.set(m, { ...hooks.get(m), [r.tree.direction]: dev, ...(connmark ? { connmark } : {}) });
    }
  }
  const modules: ModuleLoad[] = [];
  if (counters.ifb) modules.push({ kind: 'module', id: moduleId('ifb'), module: 'ifb', params: { numifbs: counters.ifb } });
  // imq accepts 2–16 devices.
  if (counters.imq) modules.push({ kind: 'module', id: moduleId('imq'), module: 'imq', params: { numdevs: Math.max(2, counters.imq) } });
  return { modules, created, trees, iptables };
}

/** TDMA blocks: taprio (or the tdma module) objects, their links' TX queues and modules. */
function compileTdma(policy: Policy, settings: Settings, require: Require, hooks: Hooks): { modules: ModuleLoad[]; objects: KernelObject[] } {
  const modules: ModuleLoad[] = [];
  const objects: KernelObject[] = [];
  for (const block of policy.tdma) {
    const objs = settings.tdma === 'module' ? compileTdmaModule(block) : compileTaprio(block);
    for (const o of objs) {
      if (o.kind === 'link') require(o.name, o.minTxQueues);
      else if (o.kind === 'module') modules.push(o);
      else objects.push(o);
    }
    // taprio's traffic classes are chosen by skbedit filters on the clsact egress hook.
    if (settings.tdma === 'taprio') hooks.set(block.iface.text, { ...hooks.get(block.iface.text), clsact: true });
  }
  return { modules, objects };
}

/** Each hooked device's hook qdisc and its redirect filters. */
function hookObjects(hooks: Hooks): KernelObject[] {
  const out: KernelObject[] = [];
  for (const [dev, h] of hooks) {
    out.push(hookQdisc(dev, h.egress !== undefined || h.clsact === true));
    if (h.ingress) out.push(mirredFilter(dev, 'ingress', h.ingress, `${dev} ingress → ${h.ingress}`, h.connmark));
    if (h.egress) out.push(mirredFilter(dev, 'egress', h.egress, `${dev} egress → ${h.egress}`));
  }
  return out;
}

/** `CONNMARK --save-mark` in POSTROUTING: the mark a flow's packets got is kept in conntrack. */
function saveMarkRules(origin: string): IptablesRule[] {
  const args = ['-j', 'CONNMARK', '--save-mark'];
  return ([4, 6] as const).map((family) => ({
    kind: 'iptables',
    id: iptablesId(family, 'qospolicy-post', args),
    origin: { path: `${origin} (conntrack marks)` },
    family,
    table: 'mangle',
    chain: 'qospolicy-post',
    hook: 'POSTROUTING',
    args,
  }));
}

/** One object per identity (e.g. one save-mark rule for several trees); two different
 * objects under one identity are a compiler bug, never silently dropped. */
function dedupe(objects: KernelObject[]): KernelObject[] {
  const seen = new Map<string, KernelObject>();
  const text = (o: KernelObject) => JSON.stringify({ ...o, origin: undefined });
  return objects.filter((o) => {
    const prev = seen.get(o.id);
    if (prev === undefined) {
      seen.set(o.id, o);
      return true;
    }
    if (text(prev) !== text(o)) throw new Error(`two different objects share the identity ${o.id}`);
    return false;
  });
}
