// Port and length ranges as u32 sees them: value/mask blocks. Shared by the backend (which
// emits them) and the checker (which warns when a line multiplies into too many).

/** Value/mask blocks that exactly cover [lo, hi] (the classic range-to-prefix split). */
export function rangeToMasks(lo: number, hi: number, bits = 16): Array<{ val: number; mask: number }> {
  const out: Array<{ val: number; mask: number }> = [];
  const full = 2 ** bits - 1;
  // Capped before splitting: a range past the field (reported by the checker) would split
  // into blocks by the billion. What is left is at most 2·bits blocks.
  if (Number.isNaN(lo) || Number.isNaN(hi)) return out;
  hi = Math.min(Math.floor(hi), full);
  let cur = Math.max(Math.ceil(lo), 0);
  while (cur <= hi) {
    let size = 1;
    while (cur % (size * 2) === 0 && cur + size * 2 - 1 <= hi && size * 2 <= 2 ** bits) size *= 2;
    out.push({ val: cur, mask: full & ~(size - 1) });
    cur += size;
  }
  return out;
}

/** The ranges of 0…max not covered by `ranges` (for `dport !22`). */
export function complementRanges(ranges: Array<{ lo: number; hi: number }>, max: number): Array<{ lo: number; hi: number }> {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo);
  const out: Array<{ lo: number; hi: number }> = [];
  let next = 0;
  for (const r of sorted) {
    if (r.lo > next) out.push({ lo: next, hi: r.lo - 1 });
    next = Math.max(next, r.hi + 1);
  }
  if (next <= max) out.push({ lo: next, hi: max });
  return out;
}

