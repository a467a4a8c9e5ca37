// QP3004: a leaf class that is neither `default` nor has a match line receives no traffic:
// nothing classifies into it.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { isLeaf, treeLabel, trees } from '../walk.js';
import { everyClass } from '../util.js';

export const ClassReceivesTraffic: Rule = {
  name: 'ClassReceivesTraffic',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      everyClass(tree, (cls) => {
        if (!isLeaf(cls) || cls.isDefault || cls.matches.length > 0) return;
        report(
          diag(
            'QP3004',
            `class '${cls.name.text}' in ${treeLabel(tree)} has no match lines and is not default: no traffic reaches it`,
            cls.name.span,
            { hint: 'add `match …` lines to say which traffic it carries, or mark it `default`' },
          ),
        );
      });
    }
  },
};
