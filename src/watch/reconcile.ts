// One reconcile: read what the policy owns, plan for the interfaces that exist now, and
// apply under the apply lock when the plan is not empty. An interface the policy names
// that is absent (ppp0 between two PPPoE sessions) is left out of the plan, not an
// error: the others are shaped, and it is shaped when it appears.
import type { DesiredState } from '../model/types.js';
import { acquireLock, applyPlan, LockedError, planSystem, type Warn } from '../apply/index.js';
import { ownedOf, writeStateFile, type Plan, type PolicyRef } from '../plan/index.js';

export { presentOnly } from '../apply/index.js';

export interface Policy {
  state: DesiredState;
  ref: PolicyRef;
}

export type Outcome =
  | { t: 'same'; absent: string[] }
  | { t: 'applied'; absent: string[]; changes: string[] }
  | { t: 'locked'; holder: string }
  | { t: 'failed'; absent: string[]; reason: string; changes: string[] };

const describe = (plan: Plan) => plan.changes.map((c) => `${c.action} ${c.address}`);

/**
 * One reconcile. `warn` hears what plan and apply say too: an overdue revert performed
 * (QP4024), an apply that did not finish (QP4027), a state file's wrong claims (QP4028).
 */
export async function reconcile(policy: Policy, stateDir: string, holder: string, warn: Warn = () => {}): Promise<Outcome> {
  // Planning reads only: the lock is taken when there is something to change, so a
  // watcher that finds nothing to do never stands in the way of an `apply`.
  const first = await planSystem(policy.state, stateDir, warn, { policy: policy.ref, presentOnly: true });
  if (first.plan.changes.length === 0 && first.plan.errors.length === 0 && first.conflicts.length === 0) return { t: 'same', absent: first.absent };
  let release: () => void;
  try {
    release = acquireLock(stateDir, holder);
  } catch (e) {
    if (e instanceof LockedError) return { t: 'locked', holder: `pid ${e.holder.pid} (${e.holder.command})` };
    throw e;
  }
  try {
    // Again under the lock: an apply may have finished in between (its warnings were said above).
    const { plan, live, absent, conflicts } = await planSystem(policy.state, stateDir, () => {}, { policy: policy.ref, presentOnly: true, settle: false });
    const changes = describe(plan);
    if (plan.errors.length || conflicts.length) return { t: 'failed', absent, reason: [...plan.errors, ...conflicts].join('; '), changes };
    if (plan.changes.length === 0) return { t: 'same', absent };
    const result = await applyPlan(plan, { stateDir, live });
    if (!result.ok) return { t: 'failed', absent, reason: `${result.reason}${result.hint ? ` (${result.hint})` : ''}${result.restored ? ' (restored)' : `; ${result.problem}`}`, changes };
    // apply recorded what the present part owns; the absent interfaces' hooks and roots
    // are the policy's too (their state file entry must not be forgotten while they are away).
    if (absent.length) writeStateFile(stateDir, ownedOf(policy.state.objects), policy.ref);
    return { t: 'applied', absent, changes };
  } finally {
    release();
  }
}
