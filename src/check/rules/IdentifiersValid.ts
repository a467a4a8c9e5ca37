// QP2006: class, slot and shared group names are identifiers ([A-Za-z_][A-Za-z0-9_-]*), so
// they read the same in plans, status output, JSON and generated scripts.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Name } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { trees } from '../walk.js';
import { everyClass } from '../util.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const IdentifiersValid: Rule = {
  name: 'IdentifiersValid',
  run({ policy, report }) {
    const check = (n: Name, what: string) => {
      if (IDENTIFIER.test(n.text)) return;
      const bad = /[^A-Za-z0-9_-]/u.exec(n.text)?.[0]; // u: an emoji is one character, not two halves
      report(
        diag(
          'QP2006',
          `${what} name '${n.text}' is not an identifier${bad ? `: it contains '${bad}'` : ''}`,
          n.span,
          {
            hint: `${what} names start with a letter or '_' and contain only letters, digits, '_' and '-'${
              bad ? ` (e.g. '${n.text.replace(/[^A-Za-z0-9_-]/gu, '_')}')` : ''
            }`,
          },
        ),
      );
    };
    for (const tree of trees(policy)) everyClass(tree, (c) => check(c.name, 'class'));
    for (const s of policy.shared) check(s.name, 'shared group');
    for (const t of policy.tdma) for (const s of t.slots) check(s.name, 'slot');
  },
};
