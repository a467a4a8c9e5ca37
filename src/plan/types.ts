// A plan is data: the ordered changes that take the live system to the desired state, and
// the exact commands that make them. Text, markdown and JSON are all rendered from it, and
// apply executes exactly its steps (Terraform's Plan → Apply, never a silent re-plan).
import type { KernelObject } from '../model/types.js';

/** `+` create, `~` change in place, `-/+` replace (the kernel cannot change it in place), `-` delete. */
export type Action = 'create' | 'update' | 'replace' | 'delete';

export const ACTION_SYMBOL: Record<Action, string> = { create: '+', update: '~', replace: '-/+', delete: '-' };

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface Change {
  action: Action;
  id: string;
  kind: KernelObject['kind'];
  /** The policy's name for the object ("wan0 ingress › voice"), when it has one. */
  origin?: string;
  /** Live object (update, replace, delete). */
  before?: KernelObject;
  /** Desired object (create, update, replace). */
  after?: KernelObject;
  /** What differs (update, replace). */
  fields?: FieldChange[];
  /** Why a replace is needed, or that a change is implied by another ("its qdisc is replaced"). */
  reason?: string;
}

export type Tool = 'tc' | 'ip' | 'iptables' | 'ip6tables' | 'modprobe' | 'sysfs';

/** One command: argv for a tool (argv[0] is the tool), or a sysfs write [path, value]. */
export interface Step {
  tool: Tool;
  argv: string[];
  /** Index of the change in Plan.changes this step belongs to. */
  change: number;
}

/** What the plan read and owns: apply reads the same scope again to detect drift. */
export interface Scope {
  devices: string[];
  chains: Array<{ family: 4 | 6; chain: string }>;
  modules: string[];
}

export interface Plan {
  format: 'qospolicy-plan';
  version: 1;
  /** The policy the plan was made from (absent for plans made by `diff`). */
  policy?: { file: string; sha256: string };
  scope: Scope;
  /** sha256 of the normalized live state in scope when the plan was made. */
  liveDigest: string;
  changes: Change[];
  steps: Step[];
  summary: Record<Action, number>;
}
