// The typed AST. Every node carries the span of the source it came from.
// Quantities are already in base units: rates in bit/s, times in ns.
import type { Span } from '../diagnostics/span.js';

export interface Node {
  span: Span;
}

export interface Name extends Node {
  text: string;
}

export interface Rate extends Node {
  /** bits per second; for a percentage, `percent` is set and `bps` is its value once resolved (syntax/resolve.ts). */
  bps: number;
  percent?: number;
}

export interface Time extends Node {
  ns: number;
}

export interface Num extends Node {
  value: number;
}

export type Backend = 'ifb' | 'imq';
export type Direction = 'ingress' | 'egress';
export type TdmaBackend = { kind: 'taprio' } | { kind: 'module'; module: Name };

export interface Policy {
  files: string[];
  target: TargetBlock | undefined;
  interfaces: InterfaceBlock[];
  shared: SharedBlock[];
  tdma: TdmaBlock[];
  /**
   * Where a number, rate or time did not resolve (an unknown name, a bad unit): the value is
   * NaN and its one diagnostic is out. The checker says nothing more at these spans.
   */
  unresolved: Span[];
}

export interface TargetBlock extends Node {
  ingress?: { backend: Backend; span: Span };
  tdma?: { backend: TdmaBackend; span: Span };
  /** What the target kernel has (`features htb, u32, fq_codel`); unset: assume a full kernel. */
  features?: { names: Name[]; span: Span };
}

/** The link layer's framing, for a tc size table (tc-stab(8)). */
export interface Framing {
  linklayer?: { kind: 'atm' | 'ptm' | 'ethernet'; span: Span };
  /** Bytes added per packet, counted as tc's stab does: from the start of the Ethernet header. */
  overhead?: Num;
  mpu?: Num;
  /** A named framing (`pppoe-llc`, `docsis`…) that sets the three above. */
  named?: Name;
  /** An 802.1Q tag: 4 more bytes per packet, on top of the rest. */
  vlan?: Span;
  /** Count every segment of a GSO super-packet (ip link set dev X gso_max_segs 1). */
  exact?: Span;
}

/** `leaf KIND ARGS…`: the qdisc under each leaf class, inherited down the tree. */
export interface LeafSpec extends Node {
  kind: Name;
  /** tc arguments after the kind, validated per kind by the lowering. */
  args: Array<{ text: string; span: Span }>;
}

export type Fairness =
  | { kind: 'hosts'; prefix: Prefix; by?: 'src' | 'dst'; span: Span }
  | { kind: 'flows'; span: Span };

export interface InterfaceBlock extends Node {
  name: Name;
  link?: { down?: Rate; up?: Rate; framing: Framing; span: Span };
  figures: { delay?: Time; jitter?: Time; price?: Num };
  ingress?: Tree;
  egress?: Tree;
}

/** A shaping tree: the root of an HTB hierarchy. */
export interface Tree extends Node {
  /** `interface` trees name their owner; `shared` trees their group. */
  owner: { kind: 'interface' | 'shared'; name: Name };
  direction: Direction;
  /** Explicit per-tree backend (`ingress imq rate …`), else the target's. */
  backend?: Backend;
  rate: Rate;
  leaf?: LeafSpec;
  classes: ClassNode[];
  /** A statement of its block was dropped (see ClassNode.incomplete). */
  incomplete?: true;
}

export interface SharedBlock extends Node {
  name: Name;
  members: Name[];
  tree: Tree;
}

export interface ClassNode extends Node {
  name: Name;
  rate?: Rate;
  ceil?: Rate;
  prio?: Num;
  quantum?: Num;
  isDefault?: Span;
  fair?: Fairness;
  leaf?: LeafSpec;
  matches: Match[];
  children: ClassNode[];
  /** A class made by `circuits` for one subscriber circuit (its CSV Circuit ID and Name). */
  circuit?: { id: string; name: string };
  /** A class made by `sites` for a site of network.json (its name there). */
  site?: string;
  /**
   * A statement of its block was dropped: it did not parse, or a match line lowered to
   * nothing (both reported). Rules about what the block lacks (no match lines, no default)
   * stay silent here: what it lacks may be in the line that was dropped.
   */
  incomplete?: true;
}

export interface TdmaBlock extends Node {
  iface: Name;
  frame?: Time;
  slots: Slot[];
  /** A statement of its block was dropped (see ClassNode.incomplete). */
  incomplete?: true;
}

export interface Slot extends Node {
  name: Name;
  at?: Time;
  length?: Time;
  isDefault?: Span;
  matches: Match[];
}

/** One `match` line: all criteria must hold (AND). Lines of a class are alternatives (OR). */
export interface Match extends Node {
  criteria: Criterion[];
  /** A criterion of the line was in error (already reported): never compared or compiled. */
  invalid?: boolean;
}

export interface PortRange extends Node {
  lo: number;
  hi: number;
}

export interface Prefix extends Node {
  family: 4 | 6;
  /** The address as written (normalized by the checker). */
  address: string;
  length: number;
}

/**
 * `host` and `port` (either direction) and `service` are expanded by the lowering into
 * alternative match lines, so criteria only ever name one direction.
 */
export type Criterion =
  | ({ kind: 'proto'; proto: 'tcp' | 'udp' | 'icmp' } & Node)
  | ({ kind: 'port'; dir: 'sport' | 'dport'; ports: PortRange[]; negate?: boolean } & Node)
  | ({ kind: 'addr'; dir: 'src' | 'dst'; prefixes: Prefix[]; negate?: boolean } & Node)
  | ({ kind: 'dscp'; values: Num[] } & Node)
  | ({ kind: 'mark'; value: Num; mask?: Num; conntrack?: boolean } & Node)
  | ({ kind: 'flag'; flag: 'syn' | 'ack' | 'fin' | 'rst' } & Node)
  /** IP packet length including the IP header, inclusive bounds. */
  | ({ kind: 'len'; lo: number; hi: number } & Node)
  /** Source MAC address (ingress only). */
  | ({ kind: 'mac'; mac: string } & Node);
