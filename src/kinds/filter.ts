// A u32 filter: all nodes at one (device, parent, prio), with the hash tables made at that
// prio. Its nodes are never changed in place (tc filter replace keeps old keys): the whole
// prio is deleted and added again.
import type { Filter } from '../model/types.js';
import { classId, linkId, qdiscId } from '../model/ids.js';
import { unmodeledOf } from '../state/live.js';
import { cmd, type Kind } from './kind.js';
import { isHookParent, ownsHook, ownsRoot } from './scope.js';
import { filterHeadText, filterNodeArgv, filterNodeLine, filterParent, filterTableArgv } from './u32.js';

const filterCommands = (o: Filter) => [...(o.tables ?? []).map((t) => filterTableArgv(o, t)), ...o.nodes.map((n) => filterNodeArgv(o, n))];

export const filter: Kind<Filter> = {
  plural: 'filters',
  address: (o) => `filter ${o.dev} ${o.parent} prio ${o.prio}${o.id.includes('/chain') ? ` ${o.id.slice(o.id.lastIndexOf('/') + 1)}` : ''}`,
  detail(o) {
    // Where the nodes send packets, each named once, in node order.
    const flows = new Set<string>();
    for (const n of o.nodes) {
      if (n.flowid) flows.add(n.flowid);
      else if (n.action?.kind === 'mirred') flows.add(`dev ${n.action.dev}`);
      else if (n.action?.kind === 'skbedit') flows.add(`priority ${n.action.priority}`);
    }
    return `protocol ${o.protocol}, ${o.nodes.length} node${o.nodes.length === 1 ? '' : 's'}${flows.size ? ` → ${Array.from(flows).join(', ')}` : ''}`;
  },
  commands: filterCommands,
  tcLines(o, line) {
    for (const t of o.tables ?? []) line(filterTableArgv(o, t).slice(1).join(' '));
    const head = filterHeadText(o);
    for (const n of o.nodes) line(filterNodeLine(head, n));
  },
  create: (o) => filterCommands(o).map(cmd),
  remove(o) {
    // The whole prio goes: u32 nodes cannot be changed one by one in place.
    const chain = unmodeledOf(o).find(([what]) => what === 'chain')?.[1];
    return [cmd(['tc', 'filter', 'del', 'dev', o.dev, ...filterParent(o.parent), ...(chain ? ['chain', chain] : []), 'protocol', o.protocol, 'prio', String(o.prio)])];
  },
  decide(want, live, fields, ctx) {
    const moved = ctx.moved(want, live);
    return { t: 'replace', fields, reason: `${moved ? `${moved} ` : ''}u32 nodes are not changed in place (tc filter replace keeps old keys): the prio is deleted and its nodes added again` };
  },
  containers(o, live) {
    const out = live.scope.links.some((x) => x.name === o.dev && x.type === 'ifb') ? [linkId(o.dev)] : [];
    if (isHookParent(o.parent)) out.push(qdiscId(o.dev, 'ingress'));
    else {
      out.push(qdiscId(o.dev, 'root'), classId(o.dev, o.parent));
      const leaf = live.leaf(o.dev, o.parent);
      if (leaf && leaf.kind === 'qdisc') out.push(classId(o.dev, leaf.parent), leaf.id);
    }
    return out.filter((id) => live.has(id));
  },
  /**
   * u32 keeps hash tables per qdisc, shared by the filters at the qdisc, at its classes and
   * (clsact) at both hooks, and frees a table only with the qdisc's last u32 filter: deleting
   * the prio that made it leaves it behind, hidden, and adding it again fails ("Filter already
   * exists") or brings its old nodes back (measured). So a filter with hash tables goes only
   * together with every u32 filter of its qdisc (unless the whole qdisc goes).
   */
  companions(o, live) {
    const ids: string[] = [];
    if (o.tables?.length)
      for (const x of live.all())
        if (x.kind === 'filter' && x.id !== o.id && x.dev === o.dev && isHookParent(x.parent) === isHookParent(o.parent) && !unmodeledOf(x).some(([what]) => what === 'classifier')) ids.push(x.id);
    return { ids, reason: (cause, what) => `goes with ${cause}, which is ${what}: u32 frees its hash tables only with the last u32 filter of the qdisc` };
  },
  device: (o) => o.dev,
  carries: (o) => ({ text: `a ${o.parent} filter` }),
  hangs(o, index) {
    for (const n of o.nodes) if (n.flowid !== undefined) index.user(o.dev, n.flowid, o.id);
  },
  inScope: (o, scope) => (isHookParent(o.parent) ? ownsHook(o.dev, scope) : ownsRoot(o.dev, scope)),
};
