// QP2012: `match mark` reads the netfilter mark. With ifb, an ingress tree classifies at the
// tc ingress hook, which runs before netfilter (PREROUTING), so no mark is set yet and the
// match never fires. Egress trees and shared egress groups run after POSTROUTING (marks are
// set); imq queues after its iptables target, so marks are visible there too.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { treeLabel, trees } from '../walk.js';
import { everyClass } from '../util.js';

export const MarksVisible: Rule = {
  name: 'MarksVisible',
  run({ policy, settings, report }) {
    for (const tree of trees(policy)) {
      if (tree.direction !== 'ingress') continue;
      if ((tree.backend ?? settings.ingress) !== 'ifb') continue;
      const shared = tree.owner.kind === 'shared';
      const imq = shared
        ? '`target { ingress imq }` (IMQ queues after netfilter has marked the packet)'
        : '`ingress imq rate …` for this tree or `target { ingress imq }` (IMQ queues after netfilter has marked the packet)';
      everyClass(tree, (cls) => {
        for (const m of cls.matches) {
          for (const c of m.criteria) {
            if (c.kind !== 'mark' || c.conntrack) continue;
            report(
              diag(
                'QP2012',
                `'match mark' in class '${cls.name.text}' of ${treeLabel(tree)} never matches: with ifb, tc ingress runs before netfilter, so the mark is not set yet`,
                c.span,
                {
                  hint: `match on headers (ports, addresses, dscp) instead; or use ${imq}; or keep ifb and write \`match connmark …\`: qospolicy then saves marks to conntrack in POSTROUTING and restores them before the redirect (the first packet of a flow has no mark yet)`,
                },
              ),
            );
          }
        }
      });
    }
  },
};
