// QP3004: a leaf class without match lines receives traffic only as a default, and only
// where unmatched traffic actually falls through to it: the tree's default chain (HTB's
// root `default`), or the catch-all of a group that has match lines of its own
// (backends/htb.ts). A leaf that is neither default nor matched gets nothing; so does a
// default leaf inside a group that is entered only through its children's own lines.
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { isLeaf, treeLabel, trees } from '../walk.js';
import { everyClass } from '../util.js';

/** Why a default leaf gets no traffic, or undefined when unmatched traffic reaches it. */
function unreachableDefault(cls: ClassNode, ancestors: ClassNode[]): string | undefined {
  let cur = cls;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const parent = ancestors[i];
    if (parent.matches.length > 0) return undefined; // the group's catch-all
    if (!parent.isDefault) {
      return `it is the default of '${parent.name.text}', which has no match lines of its own and is not default, so no unmatched traffic falls through to '${cur === cls ? cls.name.text : cur.name.text}'`;
    }
    cur = parent;
  }
  return undefined; // on the tree's default chain
}

export const ClassReceivesTraffic: Rule = {
  name: 'ClassReceivesTraffic',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      everyClass(tree, (cls, ancestors) => {
        if (!isLeaf(cls) || cls.matches.length > 0 || cls.fair?.kind === 'hosts') return; // fair hosts: its prefix leads in
        if (cls.incomplete || ancestors.some((a) => a.incomplete)) return; // a dropped line may have matched (reported)
        if (!cls.isDefault) {
          report(
            diag(
              'QP3004',
              `class '${cls.name.text}' in ${treeLabel(tree)} has no match lines and is not default: no traffic reaches it`,
              cls.name.span,
              { hint: 'add `match …` lines to say which traffic it carries, or mark it `default`' },
            ),
          );
          return;
        }
        const why = unreachableDefault(cls, ancestors);
        if (!why) return;
        report(
          diag('QP3004', `class '${cls.name.text}' in ${treeLabel(tree)} receives no traffic: ${why}`, cls.name.span, {
            hint: `give '${ancestors[ancestors.length - 1]?.name.text}' match lines of its own (then its default gets what matches no child), mark it \`default\`, or give '${cls.name.text}' match lines`,
          }),
        );
      });
    }
  },
};
