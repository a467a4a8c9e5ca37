// One reconcile: read what the policy owns, plan for the interfaces that exist now, and
// apply under the apply lock when the plan is not empty. An interface the policy names
// that is absent (ppp0 between two PPPoE sessions) is left out of the plan, not an
// error: the others are shaped, and it is shaped when it appears.
import type { DesiredState } from '../model/types.js';
import { acquireLock, applyPlan, LockedError } from '../apply/index.js';
import { makePlan, ownedOf, readStateFile, scopeFor, writeStateFile, type Plan, type PolicyRef } from '../plan/index.js';
import { readLive, type LiveItem } from '../state/index.js';

export interface Policy {
  state: DesiredState;
  ref: PolicyRef;
}

export type Outcome =
  | { t: 'same'; absent: string[] }
  | { t: 'applied'; absent: string[]; changes: string[] }
  | { t: 'locked'; holder: string }
  | { t: 'failed'; absent: string[]; reason: string; changes: string[] };

const devOf = (o: DesiredState['objects'][number]) => ('dev' in o ? (o.dev as string) : undefined);

/**
 * The desired state without what belongs to absent interfaces: their `require` link and
 * every tc object on them. Rules that only name them (iptables `-o ppp0`) stay: the
 * kernel accepts those for a device that does not exist yet.
 */
export function presentOnly(desired: DesiredState, live: LiveItem[]): { state: DesiredState; absent: string[] } {
  const existing = new Set(live.flatMap((o) => (o.kind === 'link' ? [o.name] : [])));
  const absent = desired.objects.flatMap((o) => (o.kind === 'link' && o.type === 'require' && !existing.has(o.name) ? [o.name] : []));
  if (absent.length === 0) return { state: desired, absent };
  const gone = new Set(absent);
  const objects = desired.objects.filter((o) => !(o.kind === 'link' && gone.has(o.name)) && !gone.has(devOf(o) ?? ''));
  return { state: { ...desired, objects }, absent };
}

const describe = (plan: Plan) => plan.changes.map((c) => `${c.action} ${c.address}`);

async function planNow(policy: Policy, stateDir: string): Promise<{ plan: Plan; live: LiveItem[]; absent: string[] }> {
  const scope = scopeFor(policy.state, readStateFile(stateDir)?.owned);
  const live = await readLive(scope);
  const { state, absent } = presentOnly(policy.state, live);
  return { plan: makePlan(state, live, scope, { policy: policy.ref }), live, absent };
}

export async function reconcile(policy: Policy, stateDir: string, holder: string): Promise<Outcome> {
  // Planning reads only: the lock is taken when there is something to change, so a
  // watcher that finds nothing to do never stands in the way of an `apply`.
  const first = await planNow(policy, stateDir);
  if (first.plan.changes.length === 0 && first.plan.errors.length === 0) return { t: 'same', absent: first.absent };
  let release: () => void;
  try {
    release = acquireLock(stateDir, holder);
  } catch (e) {
    if (e instanceof LockedError) return { t: 'locked', holder: `pid ${e.holder.pid} (${e.holder.command})` };
    throw e;
  }
  try {
    // Again under the lock: an apply may have finished in between.
    const { plan, live, absent } = await planNow(policy, stateDir);
    const changes = describe(plan);
    if (plan.errors.length) return { t: 'failed', absent, reason: plan.errors.join('; '), changes };
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
