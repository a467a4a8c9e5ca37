// The compiler's one entry: a checked policy → the desired state, objects in creation
// order. Each target lives in its own file; this one assigns devices and orders objects.
import type { Policy, Tree } from '../syntax/ast.js';
import type { DesiredState, KernelObject, Link, ModuleLoad } from '../model/types.js';
import { linkId, moduleId } from '../model/ids.js';
import type { Settings } from '../check/index.js';
import { treeLabel } from '../check/index.js';
import { compileTree } from './htb.js';
import { hookQdisc, imqRules, mirredFilter } from './redirect.js';
import { compileTaprio, compileTdmaModule } from './tdma.js';
import { netqosWrites } from './netqos.js';

/** A tree that needs a device of its own (ifb or imq), with the members steered into it. */
interface Redirected {
  tree: Tree;
  backend: 'ifb' | 'imq';
  members: string[];
}

export function compile(policy: Policy, settings: Settings): DesiredState {
  const redirected: Redirected[] = [];
  for (const i of policy.interfaces) {
    if (i.ingress) redirected.push({ tree: i.ingress, backend: i.ingress.backend ?? settings.ingress, members: [i.name.text] });
  }
  for (const s of policy.shared) {
    redirected.push({ tree: s.tree, backend: settings.ingress, members: s.members.map((m) => m.text) });
  }
  // Device numbers follow file order, so appending a tree never renumbers the others.
  redirected.sort((a, b) => a.tree.span.start.offset - b.tree.span.start.offset);

  const required = new Map<string, Link>();
  const require = (name: string, minTxQueues?: number) => {
    const prev = required.get(name);
    const q = Math.max(prev?.minTxQueues ?? 0, minTxQueues ?? 0);
    required.set(name, { kind: 'link', id: linkId(name), name, type: 'require', ...(q ? { minTxQueues: q } : {}) });
  };
  for (const i of policy.interfaces) if (i.ingress || i.egress) require(i.name.text);

  const modules: ModuleLoad[] = [];
  const created: Link[] = [];
  const trees: KernelObject[] = [];
  const hooks = new Map<string, { ingress?: string; egress?: string }>();
  const iptables: KernelObject[] = [];
  const counters = { ifb: 0, imq: 0 };

  for (const r of redirected) {
    const n = counters[r.backend]++;
    const dev = `${r.backend}${n}`;
    const label = treeLabel(r.tree);
    created.push({ kind: 'link', id: linkId(dev), origin: { path: label }, name: dev, type: r.backend });
    trees.push(...compileTree(r.tree, dev));
    for (const m of r.members) {
      require(m);
      if (r.backend === 'imq') iptables.push(...imqRules(m, r.tree.direction, n, label));
      else hooks.set(m, { ...hooks.get(m), [r.tree.direction]: dev });
    }
  }
  if (counters.ifb) modules.push({ kind: 'module', id: moduleId('ifb'), module: 'ifb', params: { numifbs: counters.ifb } });
  // imq accepts 2–16 devices.
  if (counters.imq) modules.push({ kind: 'module', id: moduleId('imq'), module: 'imq', params: { numdevs: Math.max(2, counters.imq) } });

  for (const i of policy.interfaces) if (i.egress) trees.push(...compileTree(i.egress, i.name.text));

  const hookObjects: KernelObject[] = [];
  for (const [dev, h] of hooks) {
    hookObjects.push(hookQdisc(dev, h.egress !== undefined));
    if (h.ingress) hookObjects.push(mirredFilter(dev, 'ingress', h.ingress, `${dev} ingress → ${h.ingress}`));
    if (h.egress) hookObjects.push(mirredFilter(dev, 'egress', h.egress, `${dev} egress → ${h.egress}`));
  }

  const tdma: KernelObject[] = [];
  for (const block of policy.tdma) {
    const objs = settings.tdma === 'module' ? compileTdmaModule(block) : compileTaprio(block);
    for (const o of objs) {
      if (o.kind === 'link') require(o.name, o.minTxQueues);
      else if (o.kind === 'module') modules.push(o);
      else tdma.push(o);
    }
  }

  const sysfs = policy.interfaces.flatMap(netqosWrites);
  const notes: string[] = [];
  for (const l of required.values()) {
    if (l.minTxQueues) notes.push(`${l.name} must have at least ${l.minTxQueues} TX queues for taprio (a veth: ip link add … numtxqueues ${l.minTxQueues}).`);
  }

  return {
    objects: [...required.values(), ...modules, ...created, ...trees, ...hookObjects, ...iptables, ...tdma, ...sysfs],
    notes,
  };
}
