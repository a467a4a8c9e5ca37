// QP2011: numbers must fit the kernel fields they end up in:
// - HTB prio 0–7 (TC_HTB_NUMPRIO is 8, tc-htb(8)); quantum a u32 of at least 1 byte;
// - firewall mark and mask u32 (skb->mark);
// - rates: tc stores bytes per second (u64 via TCA_HTB_RATE64) and prints bits as a u64,
//   so a rate is at least 8bit (1 byte/s; less rounds to 0) and below 2^64 bit/s;
// - the netqos price is written as a u32.
// TDMA times for taprio (u32 ns intervals) are checked by TdmaFitsTarget (QP2015).
import { diag } from '../../diagnostics/diagnostic.js';
import type { Num, Rate } from '../../syntax/ast.js';
import type { Rule, RuleContext } from '../rule.js';
import { trees } from '../walk.js';
import { everyClass, everyMatch, finite, isU32, rate, U32_MAX } from '../util.js';

const RATE_MIN = 8;
const RATE_LIMIT = 2 ** 64;

function checkRate(report: RuleContext['report'], r: Rate | undefined, what: string): void {
  if (!r || !finite(r.bps)) return;
  if (r.bps < RATE_MIN) {
    report(
      diag('QP2011', `${what} ${rate(r.bps)} is below the smallest rate tc can express (8bit = 1 byte/s)`, r.span, {
        hint: 'tc counts rates in bytes per second; give at least 8bit',
      }),
    );
  } else if (r.bps >= RATE_LIMIT) {
    report(
      diag('QP2011', `${what} ${rate(r.bps)} does not fit the kernel's 64-bit rate field`, r.span, {
        hint: 'rates must stay below 2^64 bit/s; check the unit',
      }),
    );
  }
}

function checkU32(report: RuleContext['report'], n: Num | undefined, what: string, min = 0): void {
  if (!n || Number.isNaN(n.value)) return;
  if (isU32(n.value) && n.value >= min) return;
  report(
    diag('QP2011', `${what} ${n.value} does not fit the kernel's field (whole numbers ${min}–${U32_MAX})`, n.span, {
      hint: `${what} is an unsigned 32-bit number`,
    }),
  );
}

export const NumbersFitKernel: Rule = {
  name: 'NumbersFitKernel',
  run({ policy, report }) {
    for (const i of policy.interfaces) {
      checkRate(report, i.link?.down, `'link down' of ${i.name.text}`);
      checkRate(report, i.link?.up, `'link up' of ${i.name.text}`);
      checkU32(report, i.figures.price, 'price');
    }
    for (const tree of trees(policy)) {
      checkRate(report, tree.rate, 'tree rate');
      everyClass(tree, (c) => {
        checkRate(report, c.rate, `rate of '${c.name.text}'`);
        checkRate(report, c.ceil, `ceil of '${c.name.text}'`);
        if (c.prio && !Number.isNaN(c.prio.value) && !(Number.isInteger(c.prio.value) && c.prio.value >= 0 && c.prio.value <= 7)) {
          report(
            diag('QP2011', `prio ${c.prio.value} of '${c.name.text}' is out of range: HTB has priorities 0–7`, c.prio.span, {
              hint: '0 is served first, 7 last',
            }),
          );
        }
        checkU32(report, c.quantum, `quantum of '${c.name.text}'`, 1);
      });
    }
    everyMatch(policy, (m) => {
      for (const c of m.criteria) {
        if (c.kind !== 'mark') continue;
        checkU32(report, c.value, 'mark');
        checkU32(report, c.mask, 'mark mask');
      }
    });
  },
};
