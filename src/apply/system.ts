// The stage every command that plans against the live system goes through (plan, apply,
// teardown, watch): settle what an earlier run left (an overdue revert, QP4024), say when
// an apply did not finish (QP4027), read the live system in the scope the state file
// claims, check that claim and what the policy takes against what is live (QP4022), plan
// (a saved plan: made again from its desired state, and run only if it is the saved one).
import { deviceOf } from '../kinds/index.js';
import { readOwned } from '../kinds/owned.js';
import type { DesiredState } from '../model/types.js';
import { checkOwnership, makePlan, readStateFile, scopeFor, type OwnershipCheck, type Plan, type PolicyRef, type StateFile } from '../plan/index.js';
import { readOwners, type LiveItem, type Scope } from '../state/index.js';
import { settlePending } from './confirm.js';
import { holderAlive } from './lock.js';
import { rederive, SavedPlanError } from './saved.js';

/** A warning of the stage, by its code. */
export type Warn = (code: 'QP4024' | 'QP4027' | 'QP4028', message: string) => void;

export interface SystemPlanOptions {
  policy?: PolicyRef;
  /** The policy whose scope is planned in (teardown: the desired state is nothing). Default: the desired state. */
  own?: DesiredState;
  mode?: 'plan' | 'teardown';
  /**
   * Settle an overdue revert first. Settling takes the apply lock itself, so a caller that
   * holds it settles before taking it (and passes false).
   */
  settle?: boolean;
  /**
   * Plan only for the interfaces present now (watch): an absent one the policy names is left
   * out of the plan, not an error; the others are shaped.
   */
  presentOnly?: boolean;
  /**
   * A plan saved with `plan -o` (its desired state is the one planned): the plan is made
   * again and must be it. Throws SavedPlanError (QP4021) or DriftError when it is not.
   */
  saved?: Plan;
  /** The live system as read ahead (readAhead): used when its scope is the one planned in. */
  ahead?: ReadAhead;
}

export interface SystemPlan {
  plan: Plan;
  live: LiveItem[];
  previous?: StateFile;
  /** Devices the policy needs that something else has set up (QP4022): the plan must not be applied. */
  conflicts: string[];
  /** Interfaces the policy names that are absent (presentOnly). */
  absent: string[];
}

/** Reads the live system in the policy's scope and plans; warns of what an earlier run left or the state file claims wrongly. */
export async function planSystem(desired: DesiredState, dir: string, warn: Warn, opts: SystemPlanOptions = {}): Promise<SystemPlan> {
  const own = opts.own ?? desired;
  if (opts.settle ?? true) for (const line of await settlePending(dir)) warn('QP4024', line);
  const previous = readStateFile(dir);
  const unfinished = previous?.incomplete;
  if (unfinished && unfinished.pid !== process.pid && !holderAlive({ pid: unfinished.pid, command: '', since: '' }))
    warn('QP4027', `the apply started at ${unfinished.since} did not finish (pid ${unfinished.pid} is gone): this plan covers everything it may have changed, so applying completes or undoes it`);
  const claimed = opts.saved ? savedScope(opts.saved, previous?.owned) : scopeFor(own, previous?.owned);
  const live = opts.ahead && sameScope(opts.ahead.scope, claimed) ? await opts.ahead.live : await readOwned(claimed);
  const check = checkOwnership(own, previous?.owned, claimed, live, dir, await readOwners());
  for (const w of check.warnings) warn('QP4028', w);
  const { state, absent } = opts.presentOnly ? presentOnly(desired, live) : { state: desired, absent: [] };
  const plan = opts.saved
    ? rederive(opts.saved, live, check.scope)
    : makePlan(state, live, check.scope, { ...(opts.policy ? { policy: opts.policy } : {}), mode: opts.mode ?? 'plan' });
  return { plan, live, ...(previous ? { previous } : {}), conflicts: conflictsOf(plan, check.taken), absent };
}

/** A read of the live system begun before the policy is compiled, in the scope the state file claims. */
export interface ReadAhead {
  scope: Scope;
  live: Promise<LiveItem[]>;
}

/**
 * Starts reading the scope the state file claims, so that waiting for tc overlaps compiling
 * (apply, after settling and under the lock: nothing of qospolicy's can change the system
 * until the plan is applied). Undefined without a state file. A policy whose scope turns out
 * other than the claimed one (a device added or dropped) is read again (planSystem).
 */
export function readAhead(dir: string): ReadAhead | undefined {
  let scope: Scope;
  try {
    const previous = readStateFile(dir);
    if (!previous) return undefined;
    scope = scopeFor({ objects: [], notes: [] }, previous.owned);
  } catch {
    return undefined; // (planSystem reads it again and says what is wrong)
  }
  const live = readOwned(scope);
  live.catch(() => {}); // awaited by planSystem, or not needed
  return { scope, live };
}

const sameScope = (a: Scope, b: Scope) => JSON.stringify(a) === JSON.stringify(b);

/** The scope a saved plan's desired state and the state file give; a desired state that cannot give one was edited. */
function savedScope(saved: Plan, owned: StateFile['owned'] | undefined) {
  try {
    return scopeFor(saved.desired, owned);
  } catch (e) {
    throw new SavedPlanError(`the plan's desired state is malformed: ${(e as Error).message}`);
  }
}

/**
 * Devices that are someone else's: marked as another state directory's, or carrying what
 * this one did not make, unless it is exactly what the plan wants (the boot script ran).
 */
export function conflictsOf(plan: Plan, taken: OwnershipCheck['taken']): string[] {
  const touched = new Set(
    plan.changes.flatMap((c) => {
      const o = c.after ?? c.before;
      return (o && deviceOf(o)) ?? [];
    }),
  );
  return taken.filter((t) => t.marked || touched.has(t.dev)).map((t) => t.problem);
}

/** The network devices a desired state puts something on (or creates). */
export const devicesOf = (desired: DesiredState): Set<string> => new Set(desired.objects.flatMap((o) => deviceOf(o) ?? []));

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
  const objects = desired.objects.filter((o) => !gone.has(deviceOf(o) ?? ''));
  return { state: { ...desired, objects }, absent };
}
