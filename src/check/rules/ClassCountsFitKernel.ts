// QP2021: limits of the kernel's numbering. A tree's classes get 16-bit minor classids
// (qospolicy keeps them below 65000, leaving room for stable ids); the filters that classify
// use 16-bit priorities unique per device, allotted three per slot (layout in
// kernel/limits.ts), a slot per class but one per hashed run of classes (check/hashruns.ts,
// so 50 000 circuits take a handful of slots): at most 10922 top-level slots, and the nested
// slots share the upper half; and HTB nests
// classes at most 8 levels deep (TC_HTB_MAXDEPTH, htb_change_class "tree is too deep").
import { diag } from '../../diagnostics/diagnostic.js';
import type { ClassNode, Tree } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { treeHeader } from '../util.js';
import { MAX_TOP_LEVEL_CLASSES, fitsGroupPrios } from '../../kernel/limits.js';
import { classEntryLines, filterSlots } from '../hashruns.js';

const MAX_CLASSES_PER_TREE = 65000;
const MAX_CHILDREN = MAX_TOP_LEVEL_CLASSES;
/** HTB nests 8 levels (TC_HTB_MAXDEPTH); qospolicy's root class 1:1 takes the first. */
const MAX_DEPTH = 7;

export const ClassCountsFitKernel: Rule = {
  name: 'ClassCountsFitKernel',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      const label = treeLabel(tree);
      let total = 0;
      let nested = 0;
      let nestedSlots = 0;
      let groups = 0;
      const fairBy = tree.direction === 'ingress' ? 'dst' : 'src';
      const slots = (list: ClassNode[]) => filterSlots(list, (c) => classEntryLines(c, fairBy));
      let tooDeep: ClassNode | undefined;
      const rec = (list: ClassNode[], parent: ClassNode | undefined, depth: number, t: Tree) => {
        // A `fair hosts` class holds one class per host of its prefix, a level further down.
        const hosts = (c: ClassNode) => (c.fair?.kind === 'hosts' && c.fair.prefix.family === 4 && c.fair.prefix.length >= 24 ? 2 ** (32 - c.fair.prefix.length) : 0);
        total += list.length + list.reduce((n, c) => n + hosts(c), 0);
        if (parent && list.length > 0) {
          nested += list.length;
          nestedSlots += slots(list);
          groups++;
        }
        // `fair hosts`: one hashed filter in a slot of its own, under the class as a group.
        const fair = list.filter((c) => hosts(c) > 0).length;
        nestedSlots += fair;
        groups += fair;
        const topSlots = !parent && list.length > MAX_CHILDREN ? slots(list) : 0;
        if (topSlots > MAX_CHILDREN) {
          const who = label;
          report(
            diag(
              'QP2021',
              `${who} has ${list.length} classes directly under it, whose filters take ${topSlots} slots of priorities; the kernel's 16-bit filter priorities allow at most ${MAX_CHILDREN}`,
              treeHeader(t),
              {
                related: [{ span: list[MAX_CHILDREN].name.span, message: `class number ${MAX_CHILDREN + 1}` }],
                hint: 'group the classes into sub-classes (a class with children), or classify them by address or port alone so they hash as one run',
              },
            ),
          );
        }
        for (const c of list) {
          if ((depth === MAX_DEPTH || (depth === MAX_DEPTH - 1 && hosts(c) > 0)) && !tooDeep) tooDeep = c;
          rec(c.children, c, depth + 1, t);
        }
      };
      rec(tree.classes, undefined, 0, tree);
      if (!fitsGroupPrios(nestedSlots, groups)) {
        report(
          diag(
            'QP2021',
            `${label} has ${nested} nested classes in ${groups} groups, whose filters take ${nestedSlots} slots of three priorities; they need more than the ${0x7fff} priorities the kernel's 16-bit field leaves them`,
            treeHeader(tree),
            { hint: 'flatten some groups into top-level classes, or split the tree' },
          ),
        );
      }
      if (total > MAX_CLASSES_PER_TREE) {
        report(
          diag(
            'QP2021',
            `${label} has ${total} classes; HTB class ids are 16-bit and a tree holds at most ${MAX_CLASSES_PER_TREE}`,
            treeHeader(tree),
            { hint: 'split the traffic over several trees (interfaces or shared groups)' },
          ),
        );
      }
      if (tooDeep) {
        report(
          diag(
            'QP2021',
            `class '${tooDeep.name.text}' in ${label} is nested ${MAX_DEPTH + 1} levels deep (counting per-host classes); HTB allows ${MAX_DEPTH} levels of classes below qospolicy's root class`,
            tooDeep.name.span,
            { hint: 'flatten the hierarchy' },
          ),
        );
      }
    }
  },
};
