// QP2005: names identify objects in plans, status and state, so they must be unique:
// class names within a tree, slot names within a tdma block, interface blocks, tdma blocks
// per interface, shared group names (which also must not be an interface block's name),
// and the members listed by one shared group.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Name } from '../../syntax/ast.js';
import type { Rule, RuleContext } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { everyClass } from '../util.js';

/** Reports every repeat of a name in `items`, pointing back at the first. */
function unique(
  report: RuleContext['report'],
  items: Name[],
  what: (n: Name) => string,
  hint: string,
): void {
  const first = new Map<string, Name>();
  for (const n of items) {
    const prev = first.get(n.text);
    if (!prev) {
      first.set(n.text, n);
      continue;
    }
    report(
      diag('QP2005', `${what(n)} is given twice`, n.span, {
        related: [{ span: prev.span, message: 'first given here' }],
        hint,
      }),
    );
  }
}

export const NamesUnique: Rule = {
  name: 'NamesUnique',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      const ns: Name[] = [];
      everyClass(tree, (c) => ns.push(c.name));
      unique(report, ns, (n) => `class '${n.text}' in ${treeLabel(tree)}`, 'class names must be unique within a tree: rename one');
    }
    for (const t of policy.tdma) {
      unique(report, t.slots.map((s) => s.name), (n) => `slot '${n.text}' in tdma ${t.iface.text}`, 'rename one of the slots');
    }
    unique(
      report,
      policy.interfaces.map((i) => i.name),
      (n) => `interface block '${n.text}'`,
      'merge the two blocks into one',
    );
    unique(
      report,
      policy.tdma.map((t) => t.iface),
      (n) => `tdma block for '${n.text}'`,
      'an interface has one TDMA schedule: merge the slots into one block',
    );
    unique(
      report,
      policy.shared.map((s) => s.name),
      (n) => `shared group '${n.text}'`,
      'rename one of the groups',
    );
    for (const s of policy.shared) {
      unique(report, s.members, (n) => `interface '${n.text}' in shared group '${s.name.text}'`, 'list each interface once');
    }
    const ifaces = new Map(policy.interfaces.map((i) => [i.name.text, i.name] as const));
    for (const s of policy.shared) {
      const iface = ifaces.get(s.name.text);
      if (!iface) continue;
      report(
        diag('QP2005', `shared group '${s.name.text}' has the name of an interface block`, s.name.span, {
          related: [{ span: iface.span, message: 'interface block with the same name' }],
          hint: 'plans and status name trees by their group or interface: give the group its own name',
        }),
      );
    }
  },
};
