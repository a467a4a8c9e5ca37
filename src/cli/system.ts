// What every command that reads or changes the live system does first: settle what an
// earlier run left (an overdue revert, an unfinished apply), then plan in the scope the
// state file claims and the live system bears out.
import type { DesiredState } from '../model/types.js';
import { readLive, readOwners, type LiveItem } from '../state/index.js';
import { checkOwnership, makePlan, readStateFile, scopeFor, type OwnershipCheck, type Plan, type PolicyRef, type StateFile } from '../plan/index.js';
import { holderAlive, settlePending } from '../apply/index.js';

export interface Say {
  err: (s: string) => void;
}

/** Performs an overdue revert and tells of a revert once (QP4024). Throws StateWriteError. */
export async function settle(dir: string, io: Say): Promise<void> {
  for (const line of await settlePending(dir)) io.err(`warning QP4024: ${line}\n`);
}

export interface SystemPlan {
  plan: Plan;
  live: LiveItem[];
  previous?: StateFile;
  /** Devices the policy needs that something else has set up (QP4022): the plan must not be applied. */
  conflicts: string[];
}

/** Reads the live system in the policy's scope and plans; says what the state file left (QP4027) or claims wrongly. */
export async function planSystem(desired: DesiredState, dir: string, io: Say, policy?: PolicyRef, ownDesired: DesiredState = desired, mode: 'plan' | 'teardown' = 'plan'): Promise<SystemPlan> {
  const previous = readStateFile(dir);
  if (previous?.incomplete && previous.incomplete.pid !== process.pid && !holderAlive({ pid: previous.incomplete.pid, command: '', since: '' }))
    io.err(`warning QP4027: the apply started at ${previous.incomplete.since} did not finish (pid ${previous.incomplete.pid} is gone): this plan covers everything it may have changed, so applying completes or undoes it\n`);
  const claimed = scopeFor(ownDesired, previous?.owned);
  const read = await readLive(claimed);
  const check = checkOwnership(ownDesired, previous?.owned, claimed, read, dir, await readOwners());
  for (const w of check.warnings) io.err(`warning QP4022: ${w}\n`);
  const plan = makePlan(desired, read, check.scope, { ...(policy ? { policy } : {}), mode });
  return { plan, live: read, ...(previous ? { previous } : {}), conflicts: conflictsOf(plan, check.taken) };
}

/**
 * Devices that are someone else's: marked as another state directory's, or carrying what
 * this one did not make, unless it is exactly what the plan wants (the boot script ran).
 */
export function conflictsOf(plan: Plan, taken: OwnershipCheck['taken']): string[] {
  const touched = new Set(
    plan.changes.flatMap((c) => {
      const o = c.after ?? c.before;
      return o && 'dev' in o ? [o.dev] : o?.kind === 'link' ? [o.name] : [];
    }),
  );
  return taken.filter((t) => t.marked || touched.has(t.dev)).map((t) => t.problem);
}
