// Apply a plan so that a failure never leaves the router half-configured: check the live
// state is the one the plan was made against, snapshot it, record the intent, run the
// plan's steps, read back and verify, record the result; on any failure — a command,
// anything left over afterwards, a state directory that cannot be written — put the
// snapshot back and say what failed. A kill at any moment leaves the intent on disk.
import { readOwned } from '../kinds/owned.js';
import type { DesiredState, KernelObject } from '../model/types.js';
import { liveDigest, makePlan, ownedOf, StateWriteError, writeStateFile, type Plan } from '../plan/index.js';
import { deviceOf, kindOf } from '../kinds/index.js';
import { type LiveItem, type Scope } from '../state/index.js';

export { sentBurst } from '../kinds/index.js';
import { runSteps, type Progress, type StepFailure } from './run.js';

export interface ApplyOptions {
  stateDir: string;
  progress?: Progress;
  /** Reads the live system in a scope, in part if `only` says so (tests may point it elsewhere). */
  read?: Read;
  /**
   * The live state the plan was just made from, in this process and under the same lock:
   * it is the snapshot, and nothing can have drifted since. A saved plan has none: the
   * live system is read again and compared with the plan's digest.
   */
  live?: LiveItem[];
}

/** The tc objects of `tcOf` only, and of those the filters not of `noFiltersOf` (see touchedOnly). */
export type Read = (scope: Scope, only?: { tcOf: ReadonlySet<string>; noFiltersOf: ReadonlySet<string> }) => Promise<LiveItem[]>;

export type Restore = { restored: true } | { restored: false; problem: string };

export type ApplyResult =
  | { ok: true; snapshot: LiveItem[]; steps: number }
  | ({
      ok: false;
      reason: string;
      failure?: StepFailure;
      /** The state directory could not be written (with a hint what to do). */
      stateDir?: true;
      hint?: string;
      /** Nothing was changed (the failure came before the first step). */
      unchanged?: true;
    } & Restore);

const DISK_HINT = 'free space in it (or make it writable, or point QOSPOLICY_STATE_DIR elsewhere) and apply again';

export class DriftError extends Error {}

export async function applyPlan(plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const read: Read = opts.read ?? ((scope, only) => readOwned(scope, only ?? {}));
  if (plan.errors.length) return { ok: false, reason: `the plan cannot be applied: ${plan.errors.join('; ')}`, restored: true };
  const snapshot = opts.live ?? (await read(plan.scope));
  if (!opts.live && liveDigest(snapshot, plan.scope) !== plan.liveDigest) {
    throw new DriftError('the live system changed since this plan was made: make a new plan');
  }

  // Intent: before the first change, the state file owns everything this apply may touch
  // (what was owned and what it makes), so a kill at any moment leaves a state file whose
  // scope covers it all; the next apply completes or undoes the change.
  const { roots, hooks, links, chains } = plan.scope;
  try {
    writeStateFile(opts.stateDir, { roots, hooks, links, chains }, plan.policy, { since: new Date().toISOString(), pid: process.pid });
  } catch (e) {
    if (!(e instanceof StateWriteError)) throw e;
    return { ok: false, reason: `${e.message}: nothing was changed`, stateDir: true, hint: DISK_HINT, restored: true, unchanged: true };
  }

  const run = await runSteps(plan.steps, opts.progress);
  if (run.failure) {
    const f = run.failure;
    const restore = await restoreSnapshot(snapshot, plan.scope, read);
    return { ok: false, reason: `step ${f.index + 1} of ${plan.steps.length} failed: ${f.command}: ${f.message}`, failure: f, ...restore };
  }

  // Read back: whatever still differs from the desired state is a failure too. Devices no
  // step touched are neither read nor planned again (touchedOnly).
  const { desired, tcOf, noFiltersOf } = touchedOnly(plan);
  const kept = snapshot.filter((o) => o.kind === 'filter' && noFiltersOf.has(o.dev));
  const left = makePlan(desired, [...(await read(plan.scope, { tcOf, noFiltersOf })), ...kept], plan.scope);
  if (left.changes.length > 0) {
    const what = left.changes.map((c) => `${c.action} ${c.address}`).join(', ');
    const restore = await restoreSnapshot(snapshot, plan.scope, read);
    return { ok: false, reason: `the commands ran, but the kernel does not hold what was planned: ${what}`, ...restore };
  }
  // Result: what is owned now. Without a record of it, the change is undone.
  try {
    writeStateFile(opts.stateDir, ownedOf(plan.desired.objects), plan.policy);
  } catch (e) {
    if (!(e instanceof StateWriteError)) throw e;
    const restore = await restoreSnapshot(snapshot, plan.scope, read);
    return { ok: false, reason: `the change was made, but ${e.message}, so it was undone`, stateDir: true, hint: DISK_HINT, ...restore };
  }
  return { ok: true, snapshot, steps: plan.steps.length };
}

/**
 * What verifying a plan's steps compares: every device a step touched with all its tc
 * objects (not only those the steps named: a step's effect on the rest of its tree shows
 * too), and everything that is not tc (links, chains, modules, sysfs files: a few cheap
 * reads). The tc objects of devices no step touched are left out on both sides: the plan
 * found them as wanted and no step changed them. A touched device whose every change is a
 * class or qdisc changed in place (`tc class change`, `tc qdisc change`: neither touches a
 * filter) has its filters as the snapshot holds them, not listed again (`noFiltersOf`).
 * docs/plan.md, "Verifying an apply".
 */
export function touchedOnly(plan: Plan): { desired: DesiredState; tcOf: Set<string>; noFiltersOf: Set<string> } {
  const devOf = (c: Plan['changes'][number]) => deviceOf(c.after ?? c.before!);
  const tcOf = new Set(plan.changes.flatMap((c) => devOf(c) ?? []));
  const filtersOf = new Set(plan.changes.flatMap((c) => (c.action === 'update' && (c.kind === 'class' || c.kind === 'qdisc') ? [] : (devOf(c) ?? []))));
  const kept = (o: KernelObject) => !(o.kind === 'qdisc' || o.kind === 'class' || o.kind === 'filter') || tcOf.has(o.dev);
  return { desired: { ...plan.desired, objects: plan.desired.objects.filter(kept) }, tcOf, noFiltersOf: new Set([...tcOf].filter((d) => !filtersOf.has(d))) };
}

/**
 * The snapshot as a desired state: restoring means planning back to it. The snapshot is
 * what the kernel showed; objects are turned back into what to send so that they show
 * exactly that again (htb bursts pass through the kernel's time ticks and tc's printing).
 */
export function snapshotAsDesired(snapshot: LiveItem[]): DesiredState {
  const objects = snapshot.flatMap((o) => {
    const kind = kindOf(o);
    const back = kind.restore ? kind.restore(o, snapshot) : o;
    return back === undefined ? [] : [back];
  });
  return { objects: objects as DesiredState['objects'], notes: [] };
}

/**
 * Plans from the live state now back to the snapshot and runs it, then checks the result
 * equals the snapshot as read (the same digest). Best effort: a step that fails is
 * reported, never hidden.
 */
export async function restoreSnapshot(snapshot: LiveItem[], scope: Scope, read: (scope: Scope) => Promise<LiveItem[]>): Promise<Restore> {
  const now = await read(scope);
  const back = makePlan(snapshotAsDesired(snapshot), now, scope);
  const run = await runSteps(back.steps);
  const final = await read(scope);
  if (liveDigest(final, scope) === liveDigest(snapshot, scope)) return { restored: true };
  const still = makePlan(snapshotAsDesired(snapshot), final, scope).changes.map((c) => `${c.action} ${c.address}`);
  const failed = run.failure ? `; restoring stopped at ${run.failure.command}: ${run.failure.message}` : '';
  return { restored: false, problem: `the system differs from before the apply: ${still.join(', ') || 'details qospolicy cannot recreate'}${failed}` };
}
