// Kernel numbering limits shared by the checker (which reports them) and the HTB backend
// (which numbers within them), so the two can never disagree.

/** Filter priorities per class: one each for IPv4, IPv6 and family-free (mark) filters. */
export const PRIOS_PER_CHILD = 3;
/** Top-level classes' filters use priorities 1…TOP_PRIO_LAST. */
export const TOP_PRIO_LAST = 0x7fff;
/** Nested classes' filters follow from here, in tree order; catch-alls count down from 0xffff. */
export const GROUP_PRIO_BASE = 0x8000;
export const CATCH_ALL_TOP = 0xffff;

export const MAX_TOP_LEVEL_CLASSES = Math.floor(TOP_PRIO_LAST / PRIOS_PER_CHILD);

/** Nested slots and groups share GROUP_PRIO_BASE…0xffff: three prios a slot (a class, or a hashed run of classes), one catch-all a group. */
export const fitsGroupPrios = (nestedSlots: number, groups: number) =>
  GROUP_PRIO_BASE + nestedSlots * PRIOS_PER_CHILD <= CATCH_ALL_TOP - groups;
