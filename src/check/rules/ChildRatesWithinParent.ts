// QP2002: the rates guaranteed to a parent's children cannot add up to more than the
// parent's own rate (the tree's rate for top-level classes): HTB could not honour them.
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode, Rate, Tree } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { finite, rate } from '../util.js';

export const ChildRatesWithinParent: Rule = {
  name: 'ChildRatesWithinParent',
  run({ policy, report }) {
    const check = (tree: Tree, parent: ClassNode | undefined, parentRate: Rate | undefined, children: ClassNode[]) => {
      if (parentRate && finite(parentRate.bps) && children.length > 0) {
        const who = parent ? `class '${parent.name.text}'` : treeLabel(tree);
        let sum = 0;
        let tipping: ClassNode | undefined;
        for (const c of children) {
          if (!c.rate || !finite(c.rate.bps)) continue;
          sum += c.rate.bps;
          if (!tipping && sum > parentRate.bps) tipping = c;
        }
        if (tipping?.rate) {
          // The text of each rate only for the message, not for every tree that fits.
          const parts: string[] = [];
          for (const c of children) if (c.rate && finite(c.rate.bps)) parts.push(`${c.name.text} ${rate(c.rate.bps)}`);
          const detail = parts.length <= 6 ? ` (${parts.join(' + ')})` : ` over ${parts.length} classes`;
          report(
            diag(
              'QP2002',
              `the classes under ${who} are guaranteed ${rate(sum)} in total${detail}, above ${parent ? 'its' : 'the tree'} rate ${rate(parentRate.bps)}`,
              tipping.rate.span,
              {
                related: [{ span: parentRate.span, message: `${who} has rate ${rate(parentRate.bps)}` }],
                hint: `lower the children's rates by ${rate(sum - parentRate.bps)} in total, or raise the parent's rate`,
              },
            ),
          );
        }
      }
      for (const c of children) if (c.children.length) check(tree, c, c.rate, c.children);
    };
    for (const tree of trees(policy)) check(tree, undefined, tree.rate, tree.classes);
  },
};
