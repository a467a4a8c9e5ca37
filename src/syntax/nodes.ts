// The statement trees grammar.ne builds: one node type per tag, each with its tokens by
// name and its span (from its first token to its last, set by parse.ts, not by the
// grammar's actions: a tree may be reused for a statement of the same shape). lower.ts
// reads these; a token's text is read there, never in the grammar.
import type { Token } from './lexer.js';
import type { Span } from '../diagnostics/span.js';

interface Node<T extends string> {
  t: T;
  span: Span;
}
/** A node with a keyword and nothing else (`default`, `exact`, `syn`). */
interface Keyword<T extends string> extends Node<T> {
  kw: Token;
}
/** A keyword and the one value after it (`rate 1mbit`, `prio 3`). */
interface Setting<T extends string> extends Keyword<T> {
  value: Token;
}

// Top-level statements
export type Target = Keyword<'target'>;
export interface Interface extends Keyword<'interface'> {
  name: Token;
}
export interface Shared extends Keyword<'shared'> {
  name: Token;
  dir: Token;
  members: Token[];
  rate: Token;
}
export interface Tdma extends Keyword<'tdma'> {
  iface: Token;
}
export interface Include extends Keyword<'include'> {
  path: Token;
}
export interface Let extends Keyword<'let'> {
  name: Token;
  value: Token;
}
export interface Service extends Keyword<'service'> {
  name: Token;
  items: ServiceItem[];
}
export interface ServiceItem extends Node<'service-item'> {
  proto: Token;
  ports: Token[];
}

// In a target block
export interface TargetIngress extends Keyword<'target-ingress'> {
  backend: Token;
}
export interface TargetTdma extends Keyword<'target-tdma'> {
  backend: Keyword<'taprio'> | ModuleBackend;
}
export interface ModuleBackend extends Keyword<'module'> {
  module: Token;
}
export interface TargetFeatures extends Keyword<'target-features'> {
  names: Token[];
}

// In an interface block
export interface Link extends Keyword<'link'> {
  attrs: LinkAttr[];
}
export type LinkAttr =
  | Setting<'down' | 'up' | 'overhead' | 'mpu'>
  /** `atm`, `ptm`, `ethernet`: the keyword is the value. */
  | Keyword<'linklayer' | 'exact' | 'framing'>;
export interface Figures extends Node<'figures'> {
  figures: Array<Setting<'delay' | 'jitter' | 'price'>>;
}
export interface TreeHeader extends Node<'tree'> {
  dir: Token;
  backend: Token | null;
  rate: Token;
}

// In trees and classes
export interface Class extends Keyword<'class'> {
  name: Token;
  attrs: ClassAttr[];
}
export type ClassAttr = Setting<'rate' | 'ceil' | 'prio' | 'quantum'> | Keyword<'default'> | FairHosts | FairFlows;
export interface FairHosts extends Keyword<'fair-hosts'> {
  prefix: Token;
  by: Token | null;
}
export interface FairFlows extends Keyword<'fair-flows'> {
  flows: Token;
}
export interface Leaf extends Keyword<'leaf'> {
  kind: Token;
  args: Token[];
}
export interface Circuits extends Keyword<'circuits'> {
  path: Token;
  dir: Token;
}
export interface Sites extends Keyword<'sites'> {
  path: Token;
}

// In a tdma block
export type Frame = Setting<'frame'>;
export interface Slot extends Keyword<'slot'> {
  name: Token;
  attrs: Array<Setting<'at' | 'length'> | Keyword<'default'>>;
}

// Match lines (classes and slots)
export interface Match extends Keyword<'match'> {
  criteria: Criterion[];
}
export type Criterion = Proto | PortCriterion | AddrCriterion | Dscp | Mark | Keyword<'flag'> | Len | Mac | ServiceUse;
export interface Proto extends Node<'proto'> {
  proto: Token;
}
/** `sport`, `dport` or `port`, maybe negated. */
export interface PortCriterion extends Keyword<'port'> {
  not: Token | null;
  ports: Token[];
}
/** `src`, `dst` or `host`, maybe negated. */
export interface AddrCriterion extends Keyword<'addr'> {
  not: Token | null;
  addrs: Token[];
}
export interface Dscp extends Keyword<'dscp'> {
  values: Token[];
}
/** `mark` or `connmark`. */
export interface Mark extends Keyword<'mark'> {
  value: Token;
  mask: Token | null;
}
export interface Len extends Keyword<'len'> {
  spec: LenCompare | LenRange;
}
export interface LenCompare extends Node<'len-cmp'> {
  op: Token;
  value: Token;
}
export interface LenRange extends Node<'len-range'> {
  range: Token;
}
export interface Mac extends Keyword<'mac'> {
  addr: Token;
}
export interface ServiceUse extends Keyword<'service'> {
  name: Token;
}

/** What a statement parses to, by the block it is in. */
export type Statement =
  | Target
  | Interface
  | Shared
  | Tdma
  | Include
  | Let
  | Service
  | TargetIngress
  | TargetTdma
  | TargetFeatures
  | Link
  | Figures
  | TreeHeader
  | Class
  | Leaf
  | Circuits
  | Sites
  | Frame
  | Slot
  | Match;

/** Any node the grammar builds. */
export type Any = Statement | ServiceItem | TargetTdma['backend'] | LinkAttr | Figures['figures'][number] | ClassAttr | Slot['attrs'][number] | Criterion | Len['spec'];

/** A node as the grammar's action builds it, without its span (per member of a union). */
type Unplaced<N> = N extends unknown ? Omit<N, 'span'> : never;

/** A node as the grammar's action builds it: parse.ts gives it its span. */
export const build = <N extends Any>(node: Unplaced<N>): N => node as unknown as N;
