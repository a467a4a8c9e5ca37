// The registry of kernel object kinds (as a Terraform provider lists its resource types):
// every kind qospolicy creates, compares, changes or removes, each one module. Asking
// `kindOf(o)` is how the planner, the renderers, the runner and the reader's scope learn
// anything kind-specific. To add a kind: docs/kinds.md.
import type { KernelObject } from '../model/types.js';
import { chain } from './chain.js';
import { htbClass } from './class.js';
import { filter } from './filter.js';
import { iptablesRule } from './iptables.js';
import type { Kind, KindName, ObjectOf, OwnedSets, PlanObject } from './kind.js';
import { link } from './link.js';
import { moduleLoad } from './module.js';
import { bucketNode } from './node.js';
import { qdisc } from './qdisc.js';
import { sysfs } from './sysfs.js';

export const KINDS: { [K in KindName]: Kind<ObjectOf<K>> } = {
  link,
  module: moduleLoad,
  qdisc,
  class: htbClass,
  filter,
  node: bucketNode,
  iptables: iptablesRule,
  chain,
  sysfs,
};

/** The kind of an object. */
export const kindOf = <O extends PlanObject>(o: O): Kind<O> => {
  const k = KINDS[o.kind] as unknown as Kind<O> | undefined;
  if (!k) throw new Error(`no kind ${String(o.kind)} in the registry`);
  return k;
};

/** The network device an object is on, or is (a link); undefined for one on none. */
export const deviceOf = (o: PlanObject): string | undefined => kindOf(o).device?.(o);

/** Whether these objects shape any traffic (an empty or truncated policy file shapes none). */
export const shapesAny = (objects: KernelObject[]): boolean => objects.some((o) => kindOf(o).shapes === true);

/** What creating these objects makes a policy own, in the objects' order (duplicates kept). */
export function ownedSets(objects: KernelObject[]): OwnedSets {
  const owned: OwnedSets = { roots: new Set(), hooks: new Set(), links: [], chains: [], devices: new Set(), modules: new Set(), sysfs: new Set() };
  for (const o of objects) kindOf(o).own?.(o, owned);
  return owned;
}

export * from './kind.js';
export { canonical, diffFields, sameValue } from './compare.js';
export { nodeText } from './u32.js';
export { shq, shWord } from './quote.js';
export { iptablesBin } from './iptables.js';
export { classArgv, classChangeArgv, sentBurst } from './class.js';
export { qdiscArgv, qdiscChangeArgv } from './qdisc.js';
export { moduleParamPath } from './module.js';
