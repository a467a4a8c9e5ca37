// QP3003: a class without `ceil` may borrow up to its parent's ceil — rate alone does not
// cap it. tc's HTB would cap at rate, FireQOS at the interface rate (REFERENCE.md): users
// are surprised either way, so say what qospolicy does and suggest writing it down.
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { finite, rate } from '../util.js';

export const CeilGiven: Rule = {
  name: 'CeilGiven',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      const label = treeLabel(tree);
      const rec = (list: ClassNode[], parentCeil: number, parentName: string) => {
        for (const c of list) {
          const ceil = c.ceil?.bps ?? parentCeil;
          // Without a rate the class is already an error (QP1009); don't pile a warning on it.
          if (!c.ceil && c.rate) {
            const upTo = finite(parentCeil) ? `${rate(parentCeil)} (${parentName})` : `(${parentName})`;
            const own = c.rate && finite(c.rate.bps) ? ` ${rate(c.rate.bps)}` : '';
            report(
              diag(
                'QP3003',
                `class '${c.name.text}' has no ceil: it may borrow up to its parent's ceil ${upTo}; its rate${own} alone does not cap it`,
                c.name.span,
                {
                  hint:
                    c.rate && finite(c.rate.bps)
                      ? `add \`ceil ${rate(c.rate.bps)}\` to cap it at its rate, or \`ceil ${finite(parentCeil) ? rate(parentCeil) : '…'}\` to make the borrowing explicit`
                      : 'add `ceil …` to say how far it may borrow',
                },
              ),
            );
          }
          if (c.children.length > 0) rec(c.children, ceil, c.ceil ? `the ceil of '${c.name.text}'` : parentName);
        }
      };
      rec(tree.classes, tree.rate.bps, `the rate of ${label}`);
    }
  },
};
