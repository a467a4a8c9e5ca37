// QP2003: a class cannot borrow beyond its parent: its ceil must not exceed the parent's
// ceil (the parent's own, or the one it inherits; the tree's rate at the top).
import { diag } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/span.js';
import type { ClassNode } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { finite, rate } from '../util.js';

/** The ceiling a class's children live under, and where it was given. */
interface Limit {
  bps: number;
  span: Span;
  givenBy: string;
}

export const CeilWithinParentCeil: Rule = {
  name: 'CeilWithinParentCeil',
  run({ policy, report }) {
    const rec = (list: ClassNode[], limit: Limit, top: string | undefined) => {
      for (const c of list) {
        if (c.ceil && finite(c.ceil.bps) && finite(limit.bps) && c.ceil.bps > limit.bps) {
          const above = top ? `the rate ${rate(limit.bps)} of ${top}` : `its parent's ceil ${rate(limit.bps)}`;
          report(
            diag('QP2003', `class '${c.name.text}' has ceil ${rate(c.ceil.bps)}, above ${above}`, c.ceil.span, {
              related: [{ span: limit.span, message: limit.givenBy }],
              hint: `a class never sends faster than its parent allows: lower its ceil to ${rate(limit.bps)} or less`,
            }),
          );
        }
        const own: Limit = c.ceil
          ? { bps: c.ceil.bps, span: c.ceil.span, givenBy: `ceil of '${c.name.text}' given here` }
          : limit;
        rec(c.children, own, undefined);
      }
    };
    for (const tree of trees(policy)) {
      const label = treeLabel(tree);
      rec(tree.classes, { bps: tree.rate.bps, span: tree.rate.span, givenBy: `rate of ${label} given here` }, label);
    }
  },
};
