// One node of a u32 hash bucket, added or deleted alone by its handle (`tc filter add …
// handle 3a:1f:801 u32 ht 3a:1f: match … flowid …`, `tc filter del … handle 3a:1f:801 u32`,
// both measured: docs/plan.md). A plan makes these from a hashed filter whose tables and
// links stay while bucket nodes come and go (one circuit added or removed: plan/hitless.ts),
// so every other node of the run, and the traffic it classifies, stays untouched.
import type { BucketNode, Filter } from '../model/types.js';
import { filterId } from '../model/ids.js';
import { cmd, type Kind } from './kind.js';
import { filter } from './filter.js';
import { filterNodeArgv, filterParent, nodeHandle, nodeText } from './u32.js';

/** The filter the node belongs to, as the filter kind's questions need it. */
const filterOf = (o: BucketNode): Filter => ({ kind: 'filter', id: filterId(o.dev, o.parent, o.prio), dev: o.dev, parent: o.parent, protocol: o.protocol, prio: o.prio, nodes: [o.node] });

export const bucketNode: Kind<BucketNode> = {
  plural: 'filter nodes',
  address: (o) => `node ${o.dev} ${o.parent} prio ${o.prio} ${nodeHandle(o.node)}`,
  detail: (o) => `protocol ${o.protocol}: ${nodeText(o.node)}`,
  commands: (o) => [filterNodeArgv(o, o.node)],
  create: (o) => [cmd(filterNodeArgv(o, o.node))],
  remove: (o) => [cmd(['tc', 'filter', 'del', 'dev', o.dev, ...filterParent(o.parent), 'protocol', o.protocol, 'prio', String(o.prio), 'handle', nodeHandle(o.node), 'u32'])],
  // Its filter's prio goes, or what that hangs in: the node goes with it.
  containers: (o, live) => [filterOf(o).id, ...(filter.containers?.(filterOf(o), live) ?? [])].filter((id) => live.has(id)),
  device: (o) => o.dev,
  carries: (o) => ({ text: `a ${o.parent} filter` }),
  hangs(o, index) {
    if (o.node.flowid !== undefined) index.user(o.dev, o.node.flowid, o.id);
  },
  inScope: (o, scope) => filter.inScope(filterOf(o), scope),
};
