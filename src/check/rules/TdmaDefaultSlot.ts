// QP3005: a tdma block without a `default` slot sends unmatched traffic in its first slot
// (file order: the first slot is traffic class 0). Say so, so it is a choice.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';

export const TdmaDefaultSlot: Rule = {
  name: 'TdmaDefaultSlot',
  run({ policy, report }) {
    for (const t of policy.tdma) {
      if (t.slots.length === 0 || t.slots.some((s) => s.isDefault)) continue;
      const first = t.slots[0];
      report(
        diag(
          'QP3005',
          `tdma ${t.iface.text} has no default slot: traffic that matches no slot is sent in the first slot, '${first.name.text}'`,
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
