// QP2013: TDMA slots are exclusive transmit windows: no two slots of one frame overlap.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Slot } from '../../syntax/ast.js';
import type { Rule } from '../rule.js';
import { finite, slotTimes, time } from '../util.js';

interface Window {
  slot: Slot;
  start: number;
  end: number;
}

export const SlotsDoNotOverlap: Rule = {
  name: 'SlotsDoNotOverlap',
  run({ policy, report }) {
    for (const t of policy.tdma) {
      const ws: Window[] = [];
      for (const slot of t.slots) {
        const start = slot.at?.ns;
        const len = slot.length?.ns;
        if (!finite(start) || !finite(len) || len <= 0) continue;
        ws.push({ slot, start, end: start + len });
      }
      // Sweep in start order; each slot is reported once, against the earliest slot it overlaps.
      const byStart = [...ws].sort((a, b) => a.start - b.start || a.slot.span.start.offset - b.slot.span.start.offset);
      const reported = new Set<Slot>();
      for (let i = 0; i < byStart.length; i++) {
        for (let j = i + 1; j < byStart.length && byStart[j].start < byStart[i].end; j++) {
          const [a, b] = [byStart[i], byStart[j]];
          // Report on whichever slot comes later in the file.
          const [first, later] = a.slot.span.start.offset <= b.slot.span.start.offset ? [a, b] : [b, a];
          if (reported.has(later.slot)) continue;
          reported.add(later.slot);
          const from = Math.max(a.start, b.start);
          const to = Math.min(a.end, b.end);
          report(
            diag(
              'QP2013',
              `slot '${later.slot.name.text}' (${time(later.start)}–${time(later.end)}) overlaps slot '${first.slot.name.text}' (${time(first.start)}–${time(first.end)}) from ${time(from)} to ${time(to)} in tdma ${t.iface.text}`,
              slotTimes(later.slot),
              {
                related: [{ span: slotTimes(first.slot), message: `slot '${first.slot.name.text}' is here` }],
                hint: `start '${later.slot.name.text}' at ${time(first.end)} or later, or shorten '${first.slot.name.text}'`,
              },
            ),
          );
        }
      }
    }
  },
};
