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
  /** The class whose ceil it is, or undefined for the tree's rate (its text only to report). */
  cls: ClassNode | undefined;
}

export const CeilWithinParentCeil: Rule = {
  name: 'CeilWithinParentCeil',
  run({ policy, report }) {
    const rec = (list: ClassNode[], limit: Limit, top: string | undefined, label: string) => {
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        if (c.ceil && finite(c.ceil.bps) && finite(limit.bps) && c.ceil.bps > limit.bps) {
          const above = top ? `the rate ${rate(limit.bps)} of ${top}` : `its parent's ceil ${rate(limit.bps)}`;
          report(
            diag('QP2003', `class '${c.name.text}' has ceil ${rate(c.ceil.bps)}, above ${above}`, c.ceil.span, {
              related: [{ span: limit.span, message: limit.cls ? `ceil of '${limit.cls.name.text}' given here` : `rate of ${label} given here` }],
              hint: `a class never sends faster than its parent allows: lower its ceil to ${rate(limit.bps)} or less`,
            }),
          );
        }
        if (c.children.length > 0) rec(c.children, c.ceil ? { bps: c.ceil.bps, span: c.ceil.span, cls: c } : limit, undefined, label);
      }
    };
    for (const tree of trees(policy)) {
      const label = treeLabel(tree);
      rec(tree.classes, { bps: tree.rate.bps, span: tree.rate.span, cls: undefined }, label, label);
    }
  },
};
