// A plan is data: the ordered changes that take the live system to the desired state, and
// the exact commands that make them. Text, markdown and JSON are all rendered from it, and
// apply executes exactly its steps (Terraform's Plan → Apply, never a silent re-plan).
import type { DesiredState } from '../model/types.js';
import type { FieldChange, PlanObject, Tool } from '../kinds/index.js';
import type { Scope } from '../state/index.js';

export type { FieldChange, PlanObject, Scope, Tool };

/** `+` create, `~` change in place, `-/+` replace (the kernel cannot change it in place), `-` delete. */
export type Action = 'create' | 'update' | 'replace' | 'delete';

export const ACTION_SYMBOL: Record<Action, string> = { create: '+', update: '~', replace: '-/+', delete: '-' };

export interface Change {
  action: Action;
  id: string;
  kind: PlanObject['kind'];
  /** A short name for the kernel object: `class ifb0 1:43ed`, `filter wan0 ingress prio 1`. */
  address: string;
  /** The policy's name for the object ("wan0 ingress › voice"), when it has one. */
  origin?: string;
  /** Live object (update, replace, delete), with `unmodeled` details where the reader found any. */
  before?: PlanObject;
  /** Desired object as compiled: exactly what the create/change commands send (create, update, replace). */
  after?: PlanObject;
  /** What differs (update, replace), compared as the kernel shows it. */
  fields?: FieldChange[];
  /** Why a replace is needed, or why a change is implied by another one. */
  reason?: string;
  /**
   * The id of the change that forces this one: a replaced root qdisc rebuilds everything
   * under it, a removed chain takes its rules, a replaced class needs its children and
   * the filters pointing at it out of the way first.
   */
  cause?: string;
  /**
   * The kernel removes the live object as part of `cause` (no delete command of its own);
   * for a replace, only the re-create has steps.
   */
  implicit?: boolean;
  /**
   * A change qospolicy cannot make itself (e.g. a module load-time parameter: a reload
   * would drop every device of the module). It has no steps; the plan lists it in `errors`
   * and apply refuses the plan.
   */
  manual?: string;
}

/** Steps run in three phases: removals (and the removal half of replaces), in-place changes, creations. */
export type Phase = 'delete' | 'update' | 'create';

/** One command. */
export interface Step {
  tool: Tool;
  /** argv of the tool (argv[0] is the tool itself); for `sysfs`: [path, value] — write value + "\n" to path. */
  argv: string[];
  /** Index of the change in Plan.changes this step belongs to. */
  change: number;
  phase: Phase;
}

export interface PolicyRef {
  file: string;
  sha256: string;
}

export interface Plan {
  format: 'qospolicy-plan';
  version: 1;
  /**
   * `plan`: desired vs the live system; `diff`: new policy vs what the old one would leave (no
   * system read); `teardown`: nothing vs the live system, in the policy's scope.
   */
  mode: 'plan' | 'diff' | 'teardown';
  /** The policy the desired state was compiled from. */
  policy?: PolicyRef;
  /** diff: the old policy. */
  base?: PolicyRef;
  /** What was read and is owned; apply reads the same scope again to detect drift. */
  scope: Scope;
  /** sha256 of the normalized live state in scope when the plan was made (see liveDigest). */
  liveDigest: string;
  /** The desired state (as compiled): what apply verifies against after running the steps. */
  desired: DesiredState;
  /** Removals first (in the order the live system lists them), then the desired objects' changes in creation order. */
  changes: Change[];
  /** Every command in execution order. */
  steps: Step[];
  summary: Record<Action, number>;
  /** Why the plan cannot be applied (a required interface is missing, a module needs a reload…). Apply refuses a plan with errors. */
  errors: string[];
  /** Things worth knowing that change nothing (netqos absent: figures skipped…). */
  notes: string[];
}
