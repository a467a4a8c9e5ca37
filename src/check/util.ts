// Small helpers shared by the checker rules: spans, numbers, every match line with its owner.
import type { Span } from '../diagnostics/span.js';
import type { Criterion, Match, Policy, Slot, TdmaBlock, Tree, ClassNode } from '../syntax/ast.js';
import { formatRate, formatTime } from '../kernel/units.js';
import { trees, treeLabel } from './walk.js';

/** The span from the earlier of two spans to the later one's end (same file). */
export function cover(a: Span, b: Span): Span {
  const [first, last] = a.start.offset <= b.start.offset ? [a, b] : [b, a];
  const end = last.end.offset >= first.end.offset ? last.end : first.end;
  return { file: first.file, start: first.start, end };
}

/** A tree's header line: `ingress rate 95mbit` / `shared uplinks egress on … rate 30mbit`. */
export const treeHeader = (t: Tree): Span => cover({ ...t.span, end: t.span.start }, t.rate.span);

/** The span of a slot's `at … length …`, or its name when either is missing. */
export const slotTimes = (s: Slot): Span =>
  s.at && s.length ? cover(s.at.span, s.length.span) : (s.at ?? s.length ?? s.name).span;

export const finite = (n: number | undefined): n is number => typeof n === 'number' && Number.isFinite(n);

export const U32_MAX = 2 ** 32 - 1;
export const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= U32_MAX;

/** formatRate/formatTime that never print "NaNbit". */
export const rate = (bps: number): string => (finite(bps) ? formatRate(bps) : 'an unknown rate');
export const time = (ns: number): string => (ns === 0 ? '0' : finite(ns) ? formatTime(ns) : 'an unknown time');

export const quote = (s: string): string => `'${s}'`;

/** Lists names for a message: "'a', 'b' and 'c'" (with "and N more" past `max`). */
export function names(items: string[], max = 5): string {
  const q = items.slice(0, max).map(quote);
  if (items.length > max) return `${q.join(', ')} and ${items.length - max} more`;
  if (q.length <= 1) return q.join('');
  return `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
}

/** Where a match line sits: in a class of a tree, or in a tdma slot. */
export type MatchOwner =
  | { kind: 'class'; tree: Tree; cls: ClassNode }
  | { kind: 'slot'; tdma: TdmaBlock; slot: Slot };

export function ownerLabel(o: MatchOwner): string {
  return o.kind === 'class' ? `class '${o.cls.name.text}' (${treeLabel(o.tree)})` : `slot '${o.slot.name.text}' (tdma ${o.tdma.iface.text})`;
}

// The walkers below run over every class and match line once per rule, mostly before V8
// has optimized them: they use indexed loops, as for-of allocates an iterator result per
// step in unoptimized code.

/**
 * Every match line of the policy, trees first (classes in file order), then tdma slots.
 * The lines of one class or slot share one owner object.
 */
export function everyMatch(policy: Policy, visit: (m: Match, owner: MatchOwner) => void): void {
  for (const tree of trees(policy)) {
    const rec = (list: ClassNode[]) => {
      for (let i = 0; i < list.length; i++) {
        const cls = list[i]!;
        if (cls.matches.length > 0) {
          const owner: MatchOwner = { kind: 'class', tree, cls };
          for (let j = 0; j < cls.matches.length; j++) visit(cls.matches[j]!, owner);
        }
        if (cls.children.length > 0) rec(cls.children);
      }
    };
    rec(tree.classes);
  }
  for (const tdma of policy.tdma) {
    for (const slot of tdma.slots) {
      const owner: MatchOwner = { kind: 'slot', tdma, slot };
      for (const m of slot.matches) visit(m, owner);
    }
  }
}

/** Every criterion of every match line, in the order of everyMatch. */
export function everyCriterion(policy: Policy, visit: (c: Criterion, m: Match, owner: MatchOwner) => void): void {
  everyMatch(policy, (m, owner) => {
    for (let i = 0; i < m.criteria.length; i++) visit(m.criteria[i]!, m, owner);
  });
}

/** Every class of a tree in pre-order (file order), with its ancestors. */
export function everyClass(tree: Tree, visit: (cls: ClassNode, ancestors: ClassNode[]) => void): void {
  const rec = (list: ClassNode[], ancestors: ClassNode[]) => {
    for (let i = 0; i < list.length; i++) {
      const cls = list[i]!;
      visit(cls, ancestors);
      if (cls.children.length > 0) rec(cls.children, [...ancestors, cls]);
    }
  };
  rec(tree.classes, []);
}
