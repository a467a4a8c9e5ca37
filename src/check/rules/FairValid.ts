// QP2025: `fair hosts on PREFIX` makes one class per host under a 256-bucket u32 hash table,
// so the prefix must be IPv4 and hold at most 256 addresses; a fair class is divided among
// hosts or flows, so it cannot also have classes of its own. `fair flows` needs a fair leaf.
import { diag } from '../../diagnostics/diagnostic.js';
import { FAIR_LEAVES } from '../../kernel/leaf.js';
import type { Rule } from '../rule.js';
import { trees } from '../walk.js';
import { everyClass } from '../util.js';

const MIN_FAIR_PREFIX = 24;

export const FairValid: Rule = {
  name: 'FairValid',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      everyClass(tree, (cls) => {
        const fair = cls.fair;
        if (!fair) return;
        if (cls.children.length > 0) {
          report(
            diag('QP2025', `class '${cls.name.text}' is shared fairly and also has classes of its own`, fair.span, {
              related: [{ span: cls.children[0].name.span, message: 'first child class' }],
              hint: `put 'fair' on a class without children`,
            }),
          );
        }
        if (fair.kind === 'flows') {
          if (cls.leaf && !FAIR_LEAVES.includes(cls.leaf.kind.text as 'sfq')) {
            report(
              diag('QP2025', `'fair flows' needs a fair leaf qdisc, but class '${cls.name.text}' has leaf ${cls.leaf.kind.text}`, cls.leaf.kind.span, {
                hint: `use leaf ${FAIR_LEAVES.join(', leaf ')} or drop the leaf statement`,
              }),
            );
          }
          return;
        }
        if (cls.isDefault) {
          report(
            diag('QP2025', `class '${cls.name.text}' is the default and shared by hosts: unmatched traffic would have no host class to go to`, fair.span, {
              related: [{ span: cls.isDefault, message: 'default here' }],
              hint: 'HTB needs a leaf as its default (an inner one sends unmatched traffic unshaped): make another class the default',
            }),
          );
        }
        const p = fair.prefix;
        if (p.family !== 4) {
          report(diag('QP2025', "'fair hosts' takes an IPv4 prefix", p.span, { hint: 'for IPv6 hosts use fair flows (a fair leaf qdisc)' }));
        } else if (p.length < MIN_FAIR_PREFIX) {
          report(
            diag('QP2025', `'fair hosts on ${p.address}/${p.length}' would make ${2 ** (32 - p.length)} classes; at most 256 (a /${MIN_FAIR_PREFIX})`, p.span, {
              hint: 'split the network into /24 classes, each fair among its hosts',
            }),
          );
        }
      });
    }
  },
};
