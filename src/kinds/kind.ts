// What every kind of kernel object qospolicy manages tells about itself, as a Terraform
// provider's resource types do: its address, its commands, how a live one compares, what
// changes in place, what it contains, its plan text and what owning it means. The planner,
// the renderers, the runner and the reader's scope ask the kind (see index.ts); none of
// them knows a kind by name. docs/kinds.md shows how to add one.
import type { KernelObject } from '../model/types.js';
import type { IptablesChain, OwnedChain } from '../state/iptables.js';
import type { Scope } from '../state/scope.js';

/** What a plan compares: the model's kernel objects and qospolicy's own iptables chains. */
export type PlanObject = KernelObject | IptablesChain;
export type KindName = PlanObject['kind'];
export type ObjectOf<K extends KindName> = Extract<PlanObject, { kind: K }>;

export type Tool = 'tc' | 'ip' | 'iptables' | 'ip6tables' | 'modprobe' | 'sysfs';

/** One command: argv of the tool (argv[0] is the tool); for `sysfs`: [path, value]. */
export type Argv = { tool: Tool; argv: string[] };

export const cmd = (argv: string[]): Argv => ({ tool: argv[0] as Tool, argv });
export const sysfsWrite = (path: string, value: string): Argv => ({ tool: 'sysfs', argv: [path, value] });

export interface FieldChange {
  /** A field of the object (`rate`, `parent`, `nodes`, `up`…), a qdisc parameter (`default`, `limit`) or `unmodeled`. */
  field: string;
  /** As read from the live system (diff: as the old policy would read back). */
  before: unknown;
  /** As the desired object will read back. */
  after: unknown;
}

/** How a desired object stands against the live one with its id. */
export type Verdict =
  | { t: 'same' }
  | { t: 'create' }
  | { t: 'update'; fields: FieldChange[]; manual?: string }
  | { t: 'replace'; fields: FieldChange[]; reason: string };

export const SAME: Verdict = { t: 'same' };
export const CREATE: Verdict = { t: 'create' };

/** What a kind may ask of the plan while it judges a desired object against the live one. */
export interface JudgeContext {
  mode: 'plan' | 'diff' | 'teardown';
  desired: KernelObject[];
  /** The live object with this id (in scope). */
  live(id: string): PlanObject | undefined;
  /** Why the plan cannot be applied. */
  error(message: string): void;
  /** A sysfs figure skipped because its directory is absent. */
  skipped(path: string): void;
  /** Why a filter's prio now classifies for other classes when filters moved (see judge.ts). */
  moved(want: Extract<PlanObject, { kind: 'filter' }>, live: Extract<PlanObject, { kind: 'filter' }>): string | undefined;
}

/** What a kind may ask of the live state while the plan works out what a removal takes along. */
export interface LiveContext {
  has(id: string): boolean;
  scope: Scope;
  /** The live leaf qdisc with this handle on this device. */
  leaf(dev: string, handle: string): PlanObject | undefined;
  /** Live classes under, and filters pointing at, this class, in live order. */
  users(dev: string, classid: string): string[];
  /** Every live object. */
  all(): Iterable<PlanObject>;
}

/** The live objects by where they hang, built up object by object (see Kind.hangs). */
export interface LiveIndex {
  /** A leaf qdisc (under a class): a filter may hang off it. */
  leaf(dev: string, handle: string, o: PlanObject): void;
  /** A class under, or a filter pointing at, the class `classid`. */
  user(dev: string, classid: string, id: string): void;
}

/** What a policy owns, built up object by object (see plan/owned.ts). */
export interface OwnedSets {
  roots: Set<string>;
  hooks: Set<string>;
  links: Array<{ name: string; type: 'ifb' | 'imq' }>;
  chains: OwnedChain[];
  devices: Set<string>;
  modules: Set<string>;
  sysfs: Set<string>;
}

/** The boot script's builder: one line per command, `run` naming its line on failure. */
export interface ShWriter {
  emit(line?: string): void;
  /** The number the next emitted line will have. */
  next(): number;
  /** A command that must succeed. */
  run(argv: string[]): void;
  /** A command as shell words. */
  words(argv: string[]): string;
}

export type ShSection = 'require' | 'devices' | 'build';

/**
 * Lines of the batch tools' files, by file. No `tc`: that file is every other kind's
 * `commands`, streamed after these (render/batch.ts), tens of megabytes at 50 000 circuits.
 */
export interface BatchOut {
  ip: string[];
  modprobe: string[];
  sysfs: string[];
  /** iptables-restore lines by family and chain (the chain is jumped to from hook). */
  rule(family: 4 | 6, chain: string, hook: string, line: string): void;
}

/** Objects that go because another one does, and why (see Kind.prerequisites). */
export interface Along {
  ids: string[];
  reason: (cause: string, what: 'removed' | 'replaced') => string;
}

export interface Kind<O extends PlanObject> {
  /** For tables that fold many changes: `classes`, `iptables rules`. */
  plural: string;
  /** A short, unique-enough name for people: `class ifb0 1:43ed`. */
  address(o: O): string;
  /** A one-line description (what a create adds, a delete removes). */
  detail(o: O): string;
  /** A field's value as people read it, where the kind knows better than the plain value. */
  valueText?(field: string, v: unknown): string | undefined;

  /** The commands that create it (argv[0] the tool), as the boot script and batch files run them. */
  commands(o: O): string[][];
  /** The plan's steps that create it. */
  create(o: O): Argv[];
  /** The steps that change the live object in place into the desired one; absent: never in place. */
  update?(want: O, live: O, fields: FieldChange[]): Argv[];
  /** The steps that remove it; absent: qospolicy never removes one. */
  remove?(o: O): Argv[];

  /** How the desired object stands against the live one; absent: compare readbacks (plan/judge.ts). */
  judge?(want: O, live: PlanObject | undefined, ctx: JudgeContext): Verdict;
  /** A difference that is no difference (a burst that only reads otherwise at another rate). */
  ignores?(f: FieldChange, sent: O, live: O): boolean;
  /** Given what differs, an in-place update or a replace (and why). */
  decide?(want: O, live: O, fields: FieldChange[], ctx: JudgeContext): Verdict;

  /** What it lives in, an object of its own that the plan creates before it (a rule's chain); absent: none. */
  within?(o: O): PlanObject;
  /** It shapes traffic: a policy that has none of these shapes nothing (an empty or truncated file). */
  shapes?: true;
  /** The network device it is on, or is (a link); absent: on none (a rule that names a device is not on it). */
  device?(o: O): string;
  /** What it puts on its device, in words (`htb 1:`, `a ffff: filter`), and whether it is the device's root. */
  carries?(o: O): { text: string; root?: boolean };
  /** The target choice it stands for, for output headers (`ingress ifb`, `tdma taprio`). */
  target?(o: O): string | undefined;
  /** Where a live one hangs (under a class, as a leaf), for what removing that takes along. */
  hangs?(o: O, index: LiveIndex): void;

  /** Whether a live object of this kind that the policy lacks is removed (default: when it has `remove`). */
  deletable?(o: O, scope: Scope): boolean;
  /** The live objects whose removal takes this one along (the kernel removes it with them). */
  containers?(o: O, live: LiveContext): string[];
  /** Removing it takes everything it contains along (a root qdisc, a device). */
  holdsAll?(o: O): boolean;
  /**
   * What must be removed by a command of its own before this one is removed by its own, and
   * the reason each of those gives (from this one's address, and `removed` or `replaced`).
   */
  prerequisites?(o: O, live: LiveContext): Along;
  /** What must go by a command of its own whenever this one goes, unless all it is in goes too. */
  companions?(o: O, live: LiveContext): Along;

  /**
   * A live object as what to send so that the kernel shows exactly it again (restoring a
   * snapshot plans back to it); undefined: it comes back with others. Default: itself.
   */
  restore?(o: O, snapshot: PlanObject[]): O | undefined;
  /** What creating it leaves, as the live reader will show it, without a system to read (diff). Default: itself. */
  assumed?(o: O): PlanObject;

  /** Whether a live object lies in the part of the system qospolicy reads and owns. */
  inScope(o: O, scope: Scope): boolean;
  /** What creating it makes the policy own. */
  own?(o: O, owned: OwnedSets): void;

  /**
   * Its boot script lines by section: `require` (checked before anything changes), `devices`
   * (modules and devices, before the reset), `build` (after it). Without any: `run` each of
   * `commands` in `build`.
   */
  sh?: { [S in ShSection]?: (o: O, w: ShWriter) => void };
  /** Its lines in the batch files other than tc's (default: `commands` into `tc -batch`, under its origin). */
  batch?(o: O, out: BatchOut): void;
  /**
   * Without `batch`: its `commands` as `tc -batch` lines (argv without the tool, joined by
   * spaces), one by one; absent: made from `commands`. For filters of 100 000 nodes.
   */
  tcLines?(o: O, line: (text: string) => void): void;
}
