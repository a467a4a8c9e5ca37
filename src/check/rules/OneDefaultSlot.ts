// QP2004: at most one slot of a tdma block is `default` (unmatched traffic goes to one slot).
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { names } from '../util.js';

export const OneDefaultSlot: Rule = {
  name: 'OneDefaultSlot',
  run({ policy, report }) {
    for (const t of policy.tdma) {
      const ds = t.slots.filter((s) => s.isDefault);
      if (ds.length <= 1) continue;
      report(
        diag(
          'QP2004',
          `tdma ${t.iface.text} has ${ds.length} default slots (${names(ds.map((s) => s.name.text))}); at most one slot can be default`,
          ds[1].isDefault,
          {
            related: ds.map((s) => ({ span: s.isDefault ?? s.name.span, message: `'${s.name.text}' is default` })),
            hint: 'keep `default` on one of them',
          },
        ),
      );
    }
  },
};
