// QP3006: u32 has no ranges, lists or negation: a match line becomes one filter node per
// combination of protocol, port block (a range splits into aligned value/mask blocks),
// address (a negated prefix into its complement) and DSCP value, per address family.
// Past a few hundred nodes the linear walk costs real time per packet (~11 ns a node).
import { diag } from '../../diagnostics/diagnostic.js';
import type { Criterion, Match } from '../../syntax/ast.js';
import { complementRanges, rangeToMasks } from '../../kernel/ranges.js';
import type { Rule } from '../rule.js';
import { everyMatch, ownerLabel } from '../util.js';

const WARN_ABOVE = 256;

function alternatives(c: Criterion): number {
  switch (c.kind) {
    case 'port': {
      const ranges = c.negate ? complementRanges(c.ports, 0xffff) : c.ports;
      // A single port is one block; only a range needs splitting.
      return ranges.reduce((n, r) => n + (r.lo <= r.hi ? (r.lo === r.hi ? 1 : rangeToMasks(r.lo, r.hi).length) : 0), 0);
    }
    case 'addr':
      // A negated prefix /L is covered by L prefixes (one per bit flipped); several, at most their sum.
      return c.negate ? c.prefixes.reduce((n, p) => n + p.length, 0) : c.prefixes.length;
    case 'dscp':
      return c.values.length;
    case 'len':
      return c.lo <= c.hi ? rangeToMasks(c.lo, c.hi).length : 1;
    default:
      return 1;
  }
}

/** Nodes one line compiles to (an upper bound for negated addresses). */
export function nodesOf(m: Match): number {
  // One pass over the criteria (this runs for every line, mostly unoptimized).
  let v4 = true; // the address families the line can match
  let v6 = true;
  let proto = false;
  let ports = false;
  let product = 1;
  for (let i = 0; i < m.criteria.length; i++) {
    const c = m.criteria[i]!;
    if (c.kind === 'addr' && !c.negate) {
      if (!c.prefixes.some((p) => p.family === 4)) v4 = false;
      if (!c.prefixes.some((p) => p.family === 6)) v6 = false;
    }
    if (c.kind === 'proto') proto = true;
    if (c.kind === 'port') ports = true;
    product *= Math.max(1, alternatives(c));
  }
  const families = (v4 ? 1 : 0) + (v6 ? 1 : 0);
  const protos = !proto && ports ? 2 : 1;
  return Math.max(1, families) * protos * product;
}

export const MatchExpansion: Rule = {
  name: 'MatchExpansion',
  run({ policy, report }) {
    everyMatch(policy, (m, owner) => {
      if (m.invalid) return;
      const n = nodesOf(m);
      if (n <= WARN_ABOVE) return;
      report(
        diag('QP3006', `a match line of ${ownerLabel(owner)} expands to about ${n} u32 filter nodes`, m.span, {
          hint: 'u32 has no ranges or negation: each range splits into aligned blocks and each negation into its complement; prefer aligned ranges (e.g. 10240-12287) and fewer negations',
        }),
      );
    });
  },
};
