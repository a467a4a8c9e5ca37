// The objects a plan compares and their short addresses. Comparison itself is the kinds'
// (src/kinds/compare.ts).
import type { DesiredState, IptablesRule, KernelObject } from '../model/types.js';
import { kindOf } from '../kinds/index.js';
import { chainId, expectedReadback, type IptablesChain } from '../state/index.js';
import type { PlanObject } from './types.js';

export { canonical, diffFields, sameValue } from '../kinds/index.js';

export interface Wanted {
  /** As compiled: what the commands send. */
  obj: PlanObject;
  /** As the live reader will show it once applied. */
  rb: PlanObject;
}

/**
 * The desired objects in creation order, each with its expected readback. qospolicy's
 * chains are objects of their own (created with their jump before their first rule), and
 * read back as they are.
 */
export function wantedObjects(desired: DesiredState): Wanted[] {
  const rb = readbackOf(desired.objects);
  const chains = new Set<string>();
  const out: Wanted[] = [];
  desired.objects.forEach((o, i) => {
    if (o.kind === 'iptables' && !chains.has(chainId(o.family, o.chain))) {
      const c = chainOf(o);
      chains.add(c.id);
      out.push({ obj: c, rb: c });
    }
    out.push({ obj: o, rb: rb[i]! });
  });
  return out;
}

/**
 * expectedReadback of a desired state's objects, computed once per objects array: apply
 * plans against the live system, runs the steps, then plans the same desired state
 * against the readback to verify it. A compiled desired state is never changed in place
 * (the length check only guards against an array grown after the fact).
 */
const readbacks = new WeakMap<KernelObject[], KernelObject[]>();
export function readbackOf(objects: KernelObject[]): KernelObject[] {
  let rb = readbacks.get(objects);
  if (rb === undefined || rb.length !== objects.length) {
    rb = expectedReadback(objects);
    readbacks.set(objects, rb);
  }
  return rb;
}

export function chainOf(r: IptablesRule): IptablesChain {
  return { kind: 'chain', id: chainId(r.family, r.chain), family: r.family, table: r.table, chain: r.chain, hook: r.hook, jumps: 1 };
}

/** A short, unique-enough name for a kernel object, for people. */
export const address = (o: PlanObject): string => kindOf(o).address(o);
