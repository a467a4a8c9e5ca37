// The objects a plan compares and their short addresses. Comparison itself is the kinds'
// (src/kinds/compare.ts).
import type { DesiredState, KernelObject } from '../model/types.js';
import { kindOf } from '../kinds/index.js';
import { expectedReadback } from '../state/index.js';
import type { PlanObject } from './types.js';

export { canonical, diffFields, sameValue } from '../kinds/index.js';

export interface Wanted {
  /** As compiled: what the commands send. */
  obj: PlanObject;
  /** As the live reader will show it once applied. */
  rb: PlanObject;
}

/**
 * The desired objects in creation order, each with its expected readback. What an object
 * lives in (qospolicy's chains, created with their jump) is an object of its own, created
 * before the first object in it, and read back as it is.
 */
export function wantedObjects(desired: DesiredState): Wanted[] {
  const rb = readbackOf(desired.objects);
  const homes = new Set<string>();
  const out: Wanted[] = [];
  desired.objects.forEach((o, i) => {
    const home = kindOf(o).within?.(o);
    if (home && !homes.has(home.id)) {
      homes.add(home.id);
      out.push({ obj: home, rb: home });
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

/** A short, unique-enough name for a kernel object, for people. */
export const address = (o: PlanObject): string => kindOf(o).address(o);
