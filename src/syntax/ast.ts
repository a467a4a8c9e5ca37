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
  /** bits per second, resolved; for a percentage, `percent` is set and `bps` is filled in by the checker. */
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
}

export interface TargetBlock extends Node {
  ingress?: { backend: Backend; span: Span };
  tdma?: { backend: TdmaBackend; span: Span };
}

export interface InterfaceBlock extends Node {
  name: Name;
  link?: { down?: Rate; up?: Rate; span: Span };
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
  classes: ClassNode[];
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
  matches: Match[];
  children: ClassNode[];
}

export interface TdmaBlock extends Node {
  iface: Name;
  frame?: Time;
  slots: Slot[];
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

export type Criterion =
  | ({ kind: 'proto'; proto: 'tcp' | 'udp' | 'icmp' } & Node)
  | ({ kind: 'port'; dir: 'sport' | 'dport'; ports: PortRange[] } & Node)
  | ({ kind: 'addr'; dir: 'src' | 'dst'; prefixes: Prefix[] } & Node)
  | ({ kind: 'dscp'; values: Num[] } & Node)
  | ({ kind: 'mark'; value: Num; mask?: Num } & Node);
