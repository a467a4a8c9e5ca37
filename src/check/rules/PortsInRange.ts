// QP2008: ports are 16-bit (0–65535) whole numbers, and a range runs from low to high.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { everyCriterion } from '../util.js';

const PORT_MAX = 65535;
const bad = (n: number) => !Number.isInteger(n) || n < 0 || n > PORT_MAX;
const rangeText = (p: { lo: number; hi: number }) => (p.lo === p.hi ? `${p.lo}` : `${p.lo}-${p.hi}`);

export const PortsInRange: Rule = {
  name: 'PortsInRange',
  run({ policy, report }) {
    everyCriterion(policy, (c) => {
      if (c.kind !== 'port') return;
      for (const p of c.ports) {
        const out = bad(p.lo) ? p.lo : bad(p.hi) ? p.hi : undefined;
        if (out !== undefined) {
          report(
            diag('QP2008', `${c.dir} ${rangeText(p)}: ${out} is not a port (ports are whole numbers 0–${PORT_MAX})`, p.span, {
              hint: 'TCP and UDP ports are 16-bit numbers',
            }),
          );
        } else if (p.lo > p.hi) {
          report(
            diag('QP2008', `${c.dir} range ${rangeText(p)} is reversed: ${p.lo} is above ${p.hi}`, p.span, {
              hint: `write ${p.hi}-${p.lo}`,
            }),
          );
        }
      }
    });
  },
};
