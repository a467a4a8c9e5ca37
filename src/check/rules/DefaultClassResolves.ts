// QP2004: unclassified traffic must land in exactly one leaf. A tree has exactly one
// `default` among its top-level classes; a group has at most one default child; a default
// that is a group must itself name a default child (and so on down to a leaf).
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { isLeaf, treeLabel, trees } from '../walk.js';
import { everyClass, names, treeHeader } from '../util.js';

const defaultsOf = (list: ClassNode[]) => list.filter((c) => c.isDefault);

const relatedDefaults = (ds: ClassNode[]) =>
  ds.map((c) => ({ span: c.isDefault ?? c.name.span, message: `'${c.name.text}' is default` }));

export const DefaultClassResolves: Rule = {
  name: 'DefaultClassResolves',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      const label = treeLabel(tree);
      const ds = defaultsOf(tree.classes);
      // A tree statement without any `{ … }` ends at its rate; lowering reported it (QP1009).
      const hasBlock = tree.span.end.offset > tree.rate.span.end.offset;
      // A class that did not parse (reported) may be the default, or the only class.
      const sure = !tree.incomplete;
      if (tree.classes.length === 0) {
        if (hasBlock && sure) {
          report(
            diag('QP2004', `${label} has no classes, so no default class for its traffic`, treeHeader(tree), {
              hint: 'add at least one class marked `default`, e.g. `class rest rate 1mbit ceil … default`',
            }),
          );
        }
      } else if (ds.length === 0 && sure) {
        report(
          diag('QP2004', `${label} has no default class: traffic that matches no class has nowhere to go`, treeHeader(tree), {
            hint: 'mark exactly one top-level class `default`',
          }),
        );
      } else if (ds.length > 1) {
        report(
          diag(
            'QP2004',
            `${label} has ${ds.length} default classes (${names(ds.map((c) => c.name.text))}); exactly one top-level class can be default`,
            treeHeader(tree),
            { related: relatedDefaults(ds), hint: 'keep `default` on one of them' },
          ),
        );
      }
      everyClass(tree, (cls) => {
        if (isLeaf(cls)) return;
        const kids = defaultsOf(cls.children);
        if (kids.length > 1) {
          report(
            diag(
              'QP2004',
              `class '${cls.name.text}' has ${kids.length} default children (${names(kids.map((c) => c.name.text))}); a group can have at most one`,
              cls.name.span,
              { related: relatedDefaults(kids), hint: 'keep `default` on one of them' },
            ),
          );
        }
        if (cls.isDefault && kids.length === 0 && !cls.incomplete) {
          report(
            diag(
              'QP2004',
              `default class '${cls.name.text}' is a group without a default child: unclassified traffic cannot reach a leaf class`,
              cls.isDefault,
              { hint: `mark one of the classes inside '${cls.name.text}' \`default\`, or move \`default\` to a leaf class` },
            ),
          );
        }
        // A default child that is itself a group without a default is reported when the
        // walk reaches it, so a chain of defaults is checked down to its leaf.
      });
    }
  },
};
