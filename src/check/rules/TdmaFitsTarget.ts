// QP2015: with taprio (tc-taprio(8)) a schedule has at most 16 traffic classes — one per
// slot; the closed gate over unassigned time needs none — and every interval (each slot
// and each gap between slots) as well as the frame is a u32 of nanoseconds (≤ ~4.29 s).
// QP2022: the sch_tdma module gates one slot per station (t_offset, t_slot): a policy
// describes its own station, so a tdma block has one slot; other stations' slots belong
// in their own policies.
import { diag } from '../../diagnostics/diagnostic.js';
import type { Slot, TdmaBlock } from '../../syntax/ast.js';
import type { Rule, RuleContext } from '../rule.js';
import { finite, slotTimes, time, U32_MAX } from '../util.js';

const TAPRIO_MAX_TC = 16;

function taprio(t: TdmaBlock, report: RuleContext['report']): void {
  const where = `tdma ${t.iface.text}`;
  if (t.slots.length > TAPRIO_MAX_TC) {
    const extra = t.slots[TAPRIO_MAX_TC];
    report(
      diag('QP2015', `${where} has ${t.slots.length} slots; taprio has at most ${TAPRIO_MAX_TC} traffic classes, one per slot`, extra.name.span, {
        related: [{ span: t.slots[0].name.span, message: 'first slot' }],
        hint: 'merge slots that carry the same traffic, or split the schedule over several interfaces',
      }),
    );
  }
  const tooLong = (ns: number) => ns > U32_MAX;
  const limit = `taprio intervals are u32 nanoseconds, at most ${U32_MAX}ns (about 4.29s)`;
  for (const s of t.slots) {
    const len = s.length?.ns;
    if (s.length && finite(len) && tooLong(len)) {
      report(diag('QP2015', `slot '${s.name.text}' is ${time(len)} long; ${limit}`, s.length.span, { hint: 'shorten the slot' }));
    }
  }
  const frame = t.frame?.ns;
  const frameTooLong = t.frame !== undefined && finite(frame) && tooLong(frame);
  if (t.frame && frameTooLong) {
    report(
      diag('QP2015', `the frame of ${where} is ${time(frame!)}; taprio's cycle is u32 nanoseconds (at most about 4.29s)`, t.frame.span, {
        hint: 'shorten the frame',
      }),
    );
  }
  // Gaps between slots are closed-gate intervals of their own.
  const windows = t.slots
    .filter((s): s is Slot & { at: { ns: number }; length: { ns: number } } => finite(s.at?.ns) && finite(s.length?.ns))
    .map((s) => ({ slot: s, start: s.at.ns, end: s.at.ns + s.length.ns }))
    .sort((a, b) => a.start - b.start);
  let cursor = 0;
  for (const w of windows) {
    if (w.start > cursor && tooLong(w.start - cursor)) {
      report(
        diag('QP2015', `the closed gap of ${time(w.start - cursor)} before slot '${w.slot.name.text}' is too long; ${limit}`, slotTimes(w.slot), {
          hint: 'move the slot earlier or add a slot in the gap',
        }),
      );
    }
    cursor = Math.max(cursor, w.end);
  }
  if (t.frame && finite(frame) && !frameTooLong && frame > cursor && tooLong(frame - cursor)) {
    report(
      diag('QP2015', `the closed gap of ${time(frame - cursor)} at the end of the frame of ${where} is too long; ${limit}`, t.frame.span, {
        hint: 'shorten the frame or add a slot at its end',
      }),
    );
  }
}

function module(t: TdmaBlock, report: RuleContext['report']): void {
  if (t.slots.length <= 1) return;
  const [first, second] = t.slots;
  report(
    diag(
      'QP2022',
      `tdma ${t.iface.text} has ${t.slots.length} slots, but the sch_tdma module gates one slot per station`,
      second.name.span,
      {
        related: [{ span: first.name.span, message: `slot '${first.name.text}' is this station's` }],
        hint: "keep this station's slot here; other stations' slots belong in their own policies (or use `tdma taprio`)",
      },
    ),
  );
}

export const TdmaFitsTarget: Rule = {
  name: 'TdmaFitsTarget',
  run({ policy, settings, report }) {
    for (const t of policy.tdma) {
      if (settings.tdma === 'taprio') taprio(t, report);
      else module(t, report);
    }
  },
};
