// The one mistake a plan cannot show by itself: an empty or truncated policy file is a
// valid policy that shapes nothing, and applying it removes every tree the last apply made.
// Apply refuses such a plan unless told (`--allow-destroy`); teardown is the way to remove all.
import { shapesAny } from '../kinds/index.js';
import type { Plan } from './types.js';

/**
 * Why applying `plan` would leave no shaping of this policy on the system, or undefined
 * when it shapes something: when its desired state holds an object whose kind shapes
 * (a qdisc: every tree, hook and TDMA schedule is one).
 */
export function removesAllShaping(plan: Plan): string | undefined {
  if (plan.mode === 'teardown') return undefined;
  if (shapesAny(plan.desired.objects)) return undefined;
  const file = plan.policy?.file ?? 'the policy';
  const removes = plan.summary.delete;
  const what = `${file} declares no interface tree, shared group or TDMA slot (an empty or truncated file?)`;
  return removes > 0 ? `${what}: the plan removes everything this policy's scope holds (${removes} to remove) and adds nothing` : `${what}: applying it would shape nothing`;
}
