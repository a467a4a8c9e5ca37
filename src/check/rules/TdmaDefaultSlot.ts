// QP3005: a tdma block without a `default` slot sends unmatched traffic in its first slot —
// the one that opens first in the frame (earliest `at`, file order on a tie), which is
// traffic class 0 (backends/tdma.ts). Say which, so it is a choice.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { finite } from '../util.js';

export const TdmaDefaultSlot: Rule = {
  name: 'TdmaDefaultSlot',
  run({ policy, report }) {
    for (const t of policy.tdma) {
      // (A slot that did not parse, reported, may be the default.)
      if (t.slots.length === 0 || t.slots.some((s) => s.isDefault) || t.incomplete) continue;
      const start = (ns: number | undefined) => (finite(ns) ? ns : 0);
      const first = [...t.slots].sort((a, b) => start(a.at?.ns) - start(b.at?.ns))[0];
      report(
        diag(
          'QP3005',
          `tdma ${t.iface.text} has no default slot: traffic that matches no slot is sent in the first slot of the frame, '${first.name.text}'`,
          t.iface.span,
          {
            related: [{ span: first.name.span, message: `slot '${first.name.text}' gets unmatched traffic` }],
            hint: 'mark the slot that should carry unmatched traffic `default`',
          },
        ),
      );
    }
  },
};
