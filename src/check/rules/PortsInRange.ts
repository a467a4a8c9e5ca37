// QP2008: ports are 16-bit (0–65535) whole numbers, and a range runs from low to high.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { everyMatch } from '../util.js';

const PORT_MAX = 65535;
const bad = (n: number) => !Number.isInteger(n) || n < 0 || n > PORT_MAX;

export const PortsInRange: Rule = {
  name: 'PortsInRange',
  run({ policy, report }) {
    everyMatch(policy, (m) => {
      for (const c of m.criteria) {
        if (c.kind !== 'port') continue;
        for (const p of c.ports) {
          const text = p.lo === p.hi ? `${p.lo}` : `${p.lo}-${p.hi}`;
          const out = [p.lo, p.hi].find(bad);
          if (out !== undefined) {
            report(
              diag('QP2008', `${c.dir} ${text}: ${out} is not a port (ports are whole numbers 0–${PORT_MAX})`, p.span, {
                hint: 'TCP and UDP ports are 16-bit numbers',
              }),
            );
          } else if (p.lo > p.hi) {
            report(
              diag('QP2008', `${c.dir} range ${text} is reversed: ${p.lo} is above ${p.hi}`, p.span, {
                hint: `write ${p.hi}-${p.lo}`,
              }),
            );
          }
        }
      }
    });
  },
};
