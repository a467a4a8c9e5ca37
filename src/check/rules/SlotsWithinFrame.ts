// QP2014: every TDMA slot lies inside the frame (at + length ≤ frame) and has a length.
// A missing frame is QP1009, reported by TdmaScheduleComplete.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Rule } from '../rule.js';
import { finite, slotTimes, time } from '../util.js';

export const SlotsWithinFrame: Rule = {
  name: 'SlotsWithinFrame',
  run({ policy, report }) {
    for (const t of policy.tdma) {
      const frame = t.frame?.ns;
      for (const slot of t.slots) {
        const at = slot.at?.ns;
        const len = slot.length?.ns;
        if (!finite(at) || !finite(len)) continue;
        if (len === 0) {
          report(
            diag('QP2014', `slot '${slot.name.text}' has length 0: it never opens`, slot.length!.span, {
              hint: 'give the slot a length, or remove it',
            }),
          );
          continue;
        }
        if (!t.frame || !finite(frame) || at + len <= frame) continue;
        report(
          diag(
            'QP2014',
            at >= frame
              ? `slot '${slot.name.text}' starts at ${time(at)}, after the ${time(frame)} frame of tdma ${t.iface.text} has ended`
              : `slot '${slot.name.text}' ends at ${time(at + len)}, after the ${time(frame)} frame of tdma ${t.iface.text}`,
            slotTimes(slot),
            {
              related: [{ span: t.frame.span, message: `frame ${time(frame)} given here` }],
              hint:
                at < frame
                  ? `shorten the slot to ${time(frame - at)} or less, or lengthen the frame to ${time(at + len)}`
                  : `move the slot into 0–${time(frame)}, or lengthen the frame`,
            },
          ),
        );
      }
    }
  },
};
