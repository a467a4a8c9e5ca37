// QP2010: a DSCP is a 6-bit field: numbers 0–63. Names (ef, af41, cs6…) are resolved and
// checked by lowering, which reports an unknown name itself and leaves the value -1.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { everyCriterion } from '../util.js';

export const DscpInRange: Rule = {
  name: 'DscpInRange',
  run({ policy, report }) {
    everyCriterion(policy, (c) => {
      if (c.kind !== 'dscp') return;
      for (const v of c.values) {
        if (v.value === -1) continue; // unknown name, already reported
        if (Number.isInteger(v.value) && v.value >= 0 && v.value <= 63) continue;
        report(
          diag('QP2010', `dscp ${v.value} is out of range: DSCP is a 6-bit field (0–63)`, v.span, {
            hint:
              Number.isInteger(v.value) && v.value <= 255
                ? `if ${v.value} is a TOS byte, its DSCP is ${v.value >> 2}; or use a name like ef or af41`
                : 'use a number 0–63 or a name like ef, af41 or cs6',
          }),
        );
      }
    });
  },
};
