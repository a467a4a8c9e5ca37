// Plan: desired state × live state → ordered changes with exact commands, and their
// renderings. One entry for the CLI (and apply): makePlan / diffPolicies, renderPlan.
import type { DesiredState } from '../model/types.js';
import type { LiveItem } from '../state/index.js';
import { assumedLive } from './assumed.js';
import { makePlan, type MakePlanOptions } from './make.js';
import { ownedOf, scopeFor } from './owned.js';
import type { Plan, PolicyRef } from './types.js';

export { makePlan, type MakePlanOptions } from './make.js';
export { assumedLive } from './assumed.js';
export { liveDigest } from './digest.js';
export { checkOwnership, ownedOf, scopeFor, readStateFile, writeStateFile, writeAtomic, StateWriteError, stateDir, DEFAULT_STATE_DIR, STATE_FILE, type Owned, type OwnershipCheck, type StateFile } from './owned.js';
export { removesAllShaping } from './guard.js';
export { renderPlan, summaryLine, type PlanFormat, type RenderOptions } from './render.js';
export { createSteps, updateSteps, deleteSteps, stepText, classChangeArgv, qdiscChangeArgv } from './steps.js';
export { address, wantedObjects } from './objects.js';
export * from './types.js';

/**
 * `qospolicy diff OLD NEW`: the plan that takes what OLD leaves on a router to NEW, with
 * its commands, made without reading any system. The scope is NEW's plus what OLD owned,
 * so trees and devices OLD had and NEW lacks show as removals.
 */
export function diffPolicies(oldState: DesiredState, newState: DesiredState, refs: { base?: PolicyRef; policy?: PolicyRef } = {}): Plan {
  const required = newState.objects.flatMap((o) => (o.kind === 'link' && o.type === 'require' ? [o] : []));
  const live: LiveItem[] = assumedLive(oldState, required);
  const opts: MakePlanOptions = { mode: 'diff', ...refs };
  return makePlan(newState, live, scopeFor(newState, ownedOf(oldState.objects)), opts);
}
