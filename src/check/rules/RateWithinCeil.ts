// QP2001: a class's guaranteed rate cannot exceed its own ceiling.
import { diag } from '../../diagnostics/diagnostic.js';
import { formatRate } from '../../kernel/units.js';
import type { Rule } from '../rule.js';
import { trees } from '../walk.js';
import { everyClass } from '../util.js';

export const RateWithinCeil: Rule = {
  name: 'RateWithinCeil',
  run({ policy, report }) {
    for (const tree of trees(policy)) {
      everyClass(tree, (cls) => {
        if (!cls.rate || !cls.ceil || !(cls.rate.bps > cls.ceil.bps)) return;
        report(
          diag('QP2001', `class '${cls.name.text}' has rate ${formatRate(cls.rate.bps)} above its ceil ${formatRate(cls.ceil.bps)}`, cls.rate.span, {
            related: [{ span: cls.ceil.span, message: 'ceil given here' }],
            hint: 'rate is the guaranteed minimum and ceil the maximum: raise ceil or lower rate',
          }),
        );
      });
    }
  },
};
