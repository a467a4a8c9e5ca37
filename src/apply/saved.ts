// A plan saved by `plan -o` is data from a file anyone may have edited: its commands are
// never run as they are. Apply re-derives the plan from the saved desired state, the state
// file and the live system, and runs the re-derived plan only if it is the saved one —
// scope, changes and every command — and if the live system is still the one it was made on.
import { readFileSync, statSync } from 'node:fs';
import { liveDigest, makePlan, stepText, type Plan, type Scope } from '../plan/index.js';
import { canonical } from '../plan/objects.js';
import type { LiveItem } from '../state/index.js';
import { DriftError } from './apply.js';
import { unsafeStep } from './run.js';

export class SavedPlanError extends Error {
  constructor(
    message: string,
    readonly hint = 'make a new one with `qospolicy plan FILE -o plan.json`',
  ) {
    super(message);
  }
}

/** Larger than any plan qospolicy writes for 100 000 classes; a bound on what is read. */
const MAX_PLAN_BYTES = 512 * 1024 * 1024;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** A saved plan's file, read and checked for shape; undefined when `file` is not a .json file (a policy). */
export function readSavedPlan(file: string): Plan | undefined {
  if (!file.endsWith('.json')) return undefined;
  let data: unknown;
  try {
    if (!statSync(file).isFile()) throw new SavedPlanError(`${file} is not a regular file`);
    if (statSync(file).size > MAX_PLAN_BYTES) throw new SavedPlanError(`${file} is larger than any plan (over ${MAX_PLAN_BYTES >> 20} MiB)`);
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof SavedPlanError) throw e;
    throw new SavedPlanError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const p = data as Record<string, unknown>;
  if (!isObj(p) || p.format !== 'qospolicy-plan' || p.version !== 1) throw new SavedPlanError(`${file} is not a qospolicy plan (version 1)`);
  if (p.mode !== 'plan') throw new SavedPlanError(`${file} was made by \`diff\`, against no system`);
  const s = p.scope as Record<string, unknown>;
  const scopeOk = isObj(s) && ['devices', 'roots', 'hooks', 'modules', 'sysfs'].every((k) => strings(s[k])) && Array.isArray(s.links) && Array.isArray(s.chains);
  const desired = p.desired as Record<string, unknown>;
  const missing = [
    !scopeOk && 'scope',
    typeof p.liveDigest !== 'string' && 'liveDigest',
    !(isObj(desired) && Array.isArray(desired.objects) && desired.objects.every(isObj) && strings(desired.notes)) && 'desired',
    !(Array.isArray(p.changes) && p.changes.every(isObj)) && 'changes',
    !(Array.isArray(p.steps) && p.steps.every(isObj)) && 'steps',
    !strings(p.errors) && 'errors',
  ].filter(Boolean);
  if (missing.length) throw new SavedPlanError(`${file} is not a complete plan: ${missing.join(', ')} missing or malformed`);
  return p as unknown as Plan;
}

/**
 * The plan to run for a saved one: made again from its desired state against `live`, in
 * `scope`, the one its desired state and the state file give (as checked against the live
 * system). Throws SavedPlanError when that is not the saved plan, DriftError when the live
 * system changed since it was made.
 */
export function rederive(saved: Plan, live: LiveItem[], scope: Scope): Plan {
  // First what no live state can excuse: a command a batch would split (a consistent edit
  // of desired state, changes and commands alike still lands here).
  for (const [i, st] of saved.steps.entries()) {
    const why = unsafeStep(st);
    if (why) throw new SavedPlanError(`step ${i + 1} of the plan cannot be run: ${why}; nothing was run`);
  }
  let fresh: Plan;
  try {
    if (canonical(scope) !== canonical(saved.scope))
      throw new SavedPlanError('the plan owns other devices or chains than its desired state and state.json give: it was edited, or another apply ran since');
    if (liveDigest(live, scope) !== saved.liveDigest) throw new DriftError('the live system changed since this plan was made: make a new plan');
    fresh = makePlan(saved.desired, live, scope, saved.policy ? { policy: saved.policy } : {});
  } catch (e) {
    if (e instanceof SavedPlanError || e instanceof DriftError) throw e;
    throw new SavedPlanError(`the plan's desired state cannot be planned again: ${(e as Error).message}`);
  }
  const json = (v: unknown) => canonical(JSON.parse(JSON.stringify(v ?? null)));
  if (json(fresh.changes) !== json(saved.changes)) throw new SavedPlanError("the plan's changes are not what its desired state makes of the live system: it was edited");
  const n = Math.max(fresh.steps.length, saved.steps.length);
  for (let i = 0; i < n; i++) {
    const a = fresh.steps[i];
    const b = saved.steps[i];
    if (json(a) !== json(b)) {
      // JSON, not the words themselves: an edited word may hold newlines or terminal escapes
      const shown = b ? JSON.stringify(isObj(b) && 'argv' in b ? b.argv : b) : 'none';
      throw new SavedPlanError(`step ${i + 1} of the plan is not the command its changes make (it has ${shown}${a ? `, they make ${stepText(a)}` : ', they make none'}): it was edited; nothing was run`);
    }
  }
  return fresh;
}
