// QP1009: a tdma block needs its `frame` and at least one slot. (A slot's own `at` and
// `length` are required by lowering.)
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';

export const TdmaScheduleComplete: Rule = {
  name: 'TdmaScheduleComplete',
  run({ policy, report }) {
    for (const t of policy.tdma) {
      if (t.incomplete) continue; // the line that did not parse (reported) may be the one missing
      if (!t.frame) {
        report(
          diag('QP1009', `tdma ${t.iface.text} has no 'frame'`, t.iface.span, {
            hint: 'give the frame (the period in which every slot opens once), e.g. `frame 10ms`',
          }),
        );
      }
      if (t.slots.length === 0) {
        report(
          diag('QP1009', `tdma ${t.iface.text} has no slots`, t.iface.span, {
            hint: 'add a transmit window, e.g. `slot own at 0ms length 4ms default`',
          }),
        );
      }
    }
  },
};
