// The desired-state model: backend-neutral kernel objects with stable identities.
// The compiler produces it, renderers print it, and (later) the live-state reader
// produces the same shapes so plan can diff them field by field.

/** Where an object came from in the policy, for humans ("wan0 ingress › voice"). */
export interface Origin {
  path: string;
}

interface Base {
  /** Stable identity: equal ids denote the same kernel object across policy versions. */
  id: string;
  origin?: Origin;
}

/** A network device qospolicy creates (ifb) or requires (the interfaces the policy names, imq). */
export interface Link extends Base {
  kind: 'link';
  name: string;
  /** ifb: created if missing; imq: created by the imq module; require: must already exist. */
  type: 'ifb' | 'imq' | 'require';
  /** Minimum number of TX queues the device must have (taprio). */
  minTxQueues?: number;
  /** `ip link set dev X gso_max_segs N`: 1 makes a size table count every segment. */
  gsoMaxSegs?: number;
  /** `ip link set dev X gso_max_size N`: the largest packet the router's own TCP builds for it. */
  gsoMaxSize?: number;
  /** `ip link set dev X gro_max_size N`: the largest packet GRO merges from what it receives. */
  groMaxSize?: number;
}

/** The link settings qospolicy may ask for, with `ip link set`'s keyword for each. */
export const LINK_SETTINGS = [
  ['gsoMaxSegs', 'gso_max_segs'],
  ['gsoMaxSize', 'gso_max_size'],
  ['groMaxSize', 'gro_max_size'],
] as const;

/** `options MODULE k=v` for /etc/modprobe.d, and `modprobe MODULE k=v` at boot. */
export interface ModuleLoad extends Base {
  kind: 'module';
  module: string;
  params: Record<string, number>;
  /** Parameters writable at run time under /sys/module/MODULE/parameters. */
  runtime?: boolean;
}

export type QdiscKind = 'htb' | 'ingress' | 'clsact' | 'pfifo' | 'bfifo' | 'fq_codel' | 'sfq' | 'cake' | 'taprio' | 'tdma';

export interface Qdisc extends Base {
  kind: 'qdisc';
  dev: string;
  /** 'root', 'ingress' (ingress/clsact hook), or a parent classid like '1:10'. */
  parent: string;
  handle: string;
  qdisc: QdiscKind;
  /** tc arguments after the kind, e.g. { default: '10', r2q: ... }; ordered as tc prints them. */
  params: Array<[string, string]>;
  /** Size table (tc-stab(8)): per-packet overhead and cell framing, counted from skb->len. */
  stab?: { linklayer: 'atm' | 'ethernet'; overhead: number; mpu: number };
}

export interface HtbClass extends Base {
  kind: 'class';
  dev: string;
  classid: string;
  parent: string;
  /** bits per second */
  rate: number;
  ceil: number;
  prio: number;
  /** bytes */
  quantum: number;
  burst: number;
  cburst: number;
}

/** One u32 key: the 32-bit word at `off` (relative to the network header), masked, equals `val`. */
export interface U32Key {
  off: number;
  val: number;
  mask: number;
}

export type Action = { kind: 'mirred'; dev: string } | { kind: 'skbedit'; priority: string };

/** One u32 node: all keys (and the mark) must match; then it classifies or acts. */
export interface U32Node {
  keys: U32Key[];
  mark?: { val: number; mask: number };
  /** Placed in this hash-table bucket ('3a:1f:') instead of the prio's root table. */
  ht?: string;
  /**
   * Its id in that bucket (1…0xfff; the handle is ht + id): a bucket's nodes are tried in
   * ascending id. Absent: the kernel's next free one from 0x800, i.e. in the order added.
   */
  node?: number;
  /** Continue in this hash table ('3a:'), choosing the bucket by `hashkey`. */
  link?: string;
  hashkey?: { mask: number; at: number };
  flowid?: string;
  /** Restore the conntrack mark into the packet mark before `action` (act_connmark). */
  connmark?: boolean;
  action?: Action;
}

/**
 * All u32 nodes at one (dev, parent, prio): the kernel tries them in order.
 * Identity is (dev, parent, prio); node handles are left to the kernel (800::800, …),
 * which numbers them in insertion order, except a hash bucket's nodes placed by a plan
 * (`node`).
 */
export interface Filter extends Base {
  kind: 'filter';
  dev: string;
  /** A classid ('1:', '1:a3'), or 'ingress' / 'egress' for the clsact/ingress hooks. */
  parent: string;
  protocol: 'ip' | 'ipv6' | 'all';
  prio: number;
  /** Hash tables created at this prio before the nodes (`handle 3a: u32 divisor 256`). */
  tables?: Array<{ handle: string; divisor: number }>;
  nodes: U32Node[];
}

/**
 * One node of a hash bucket of a u32 filter, added or deleted alone by its handle: how a
 * plan changes a hashed run whose tables and links stay (one circuit added or removed).
 * Only plans make these, from a Filter and its live copy (plan/hitless.ts); the Filter
 * stays the desired state.
 */
export interface BucketNode extends Base {
  kind: 'node';
  dev: string;
  parent: string;
  protocol: Filter['protocol'];
  prio: number;
  /** With `ht` and `node`. */
  node: U32Node;
}

/** A rule in one of qospolicy's own iptables chains (created and jumped to from `hook`). */
export interface IptablesRule extends Base {
  kind: 'iptables';
  family: 4 | 6;
  table: 'mangle';
  chain: string;
  hook: 'PREROUTING' | 'POSTROUTING';
  args: string[];
}

/** A guarded write under /sys (skipped where the file's module is absent). */
export interface SysfsWrite extends Base {
  kind: 'sysfs';
  path: string;
  value: string;
}

export type KernelObject = Link | ModuleLoad | Qdisc | HtbClass | Filter | BucketNode | IptablesRule | SysfsWrite;

/** Objects in creation order: every object comes after what it depends on. */
export interface DesiredState {
  objects: KernelObject[];
  /** Notes for humans that belong next to the output (e.g. requirements). */
  notes: string[];
}
