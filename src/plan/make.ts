// desired × live → Plan, in phases, each a file: judge.ts (each desired object against the
// live one: same, create, change in place, replace), removals.ts (what goes, and what goes
// with it or before it), changes.ts (the changes), order.ts (the steps, in the order they
// run). Every kind-specific answer comes from the object's kind (src/kinds).
import { inScope } from '../kinds/owned.js';
import type { DesiredState } from '../model/types.js';
import { type LiveItem, type Scope } from '../state/index.js';
import { changesOf } from './changes.js';
import { liveDigest } from './digest.js';
import { judgeAll } from './judge.js';
import { address, wantedObjects } from './objects.js';
import { canonicalOrder, classDepth, stepsOf } from './order.js';
import { makeBeforeBreak, placeFilters } from './hitless.js';
import { splitNodes } from './buckets.js';
import { removals } from './removals.js';
import type { Action, Plan, PolicyRef } from './types.js';

export interface MakePlanOptions {
  /**
   * `diff`: `live` is what an older policy leaves (no system was read); missing required
   * interfaces are not errors. `teardown`: the desired state is nothing (rendered as a removal).
   */
  mode?: Plan['mode'];
  policy?: PolicyRef;
  base?: PolicyRef;
}

export function makePlan(compiled: DesiredState, live: LiveItem[], scope: Scope, opts: MakePlanOptions = {}): Plan {
  const mode = opts.mode ?? 'plan';
  const liveIn = live.filter((o) => inScope(o, scope));
  // Filters keep their live prios; new and changed ones go beside them (hitless.ts).
  const { desired, tableSteps, inPlace } = placeFilters(compiled, liveIn);
  // A hashed filter changed node by node is planned as its nodes added and deleted (buckets.ts).
  const parts = splitNodes(desired.objects, liveIn, inPlace);
  const wanted = wantedObjects(parts.desired === desired.objects ? desired : { ...desired, objects: parts.desired });
  const wantedIds = new Set(wanted.map((w) => w.obj.id));
  const liveById = new Map<string, LiveItem>();
  for (const o of parts.live) if (!liveById.has(o.id)) liveById.set(o.id, o);

  const { verdicts, errors, skipped } = judgeAll(wanted, desired, liveById, mode);
  const goes = removals(liveById, wantedIds, verdicts, scope, tableSteps);
  const depth = classDepth(liveById);
  const order = canonicalOrder(depth);
  const changes = changesOf({ wanted, liveById, verdicts, goes, order });
  for (const c of changes) if (c.manual) errors.push(`${address(c.after!)}: ${c.manual}`);
  const removed = [...goes].filter(([, g]) => !g.implicit).map(([id]) => liveById.get(id)!);
  const steps = makeBeforeBreak(stepsOf({ changes, wanted: wanted.map((w) => w.obj), liveById, removed, depth, order, scope }), changes, parts.live, tableSteps);

  const notes = [...desired.notes];
  if (skipped.length) notes.push(`skipped where the directory is absent (module not loaded), as the boot script does: ${skipped.join(', ')}`);
  const summary: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const c of changes) summary[c.action]++;

  // The digest prints the whole live state canonically (~20 ms at 1 000 classes): it is
  // computed when first read (a saved plan, a drift check), not for a plan that is only
  // shown, applied at once, or used to verify an apply.
  let digest: string | undefined;
  return {
    format: 'qospolicy-plan',
    version: 1,
    mode,
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.base ? { base: opts.base } : {}),
    scope,
    get liveDigest() {
      return (digest ??= liveDigest(liveIn, scope));
    },
    desired,
    changes,
    steps,
    summary,
    errors,
    notes,
  };
}
