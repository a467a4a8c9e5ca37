// QP3002: a prefix like 10.1.2.3/24 has host bits set. It matches the whole network
// 10.1.2.0/24, which is rarely what the author of "10.1.2.3" meant: say which one.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { everyCriterion } from '../util.js';
import { familyBits, formatAddress, hasHostBits, networkOf, parsePrefix } from '../net.js';

export const PrefixWithoutHostBits: Rule = {
  name: 'PrefixWithoutHostBits',
  run({ policy, report }) {
    everyCriterion(policy, (c) => {
      if (c.kind !== 'addr') return;
      for (const p of c.prefixes) {
        const parsed = parsePrefix(p);
        if (!parsed || !hasHostBits(parsed)) continue;
        const net = `${formatAddress(networkOf(parsed), p.family)}/${p.length}`;
        report(
          diag('QP3002', `prefix ${p.address}/${p.length} has host bits set; it matches all of ${net}`, p.span, {
            hint: `write ${net} for the network, or ${p.address}/${familyBits(p.family)} for the single host`,
          }),
        );
      }
    });
  },
};
