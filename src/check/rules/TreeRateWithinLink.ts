// QP2018: a tree cannot shape above the physical link: an ingress tree's rate is at most
// `link down`, an egress tree's at most `link up` (when the interface gives them).
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { finite, rate } from '../util.js';

export const TreeRateWithinLink: Rule = {
  name: 'TreeRateWithinLink',
  run({ policy, report }) {
    for (const i of policy.interfaces) {
      for (const [tree, link, word] of [
        [i.ingress, i.link?.down, 'down'],
        [i.egress, i.link?.up, 'up'],
      ] as const) {
        if (!tree || !link || !finite(tree.rate.bps) || !finite(link.bps) || tree.rate.bps <= link.bps) continue;
        report(
          diag(
            'QP2018',
            `${tree.direction} rate ${rate(tree.rate.bps)} of '${i.name.text}' is above its link rate (${word} ${rate(link.bps)})`,
            tree.rate.span,
            {
              related: [{ span: link.span, message: `link ${word} ${rate(link.bps)} given here` }],
              hint: `shape a little below the link (e.g. ${rate(Math.floor(link.bps * 0.95))}) so the queue builds here, not at the modem`,
            },
          ),
        );
      }
    }
  },
};
