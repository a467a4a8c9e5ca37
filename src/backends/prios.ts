// Filter priorities that do not move. u32 tries prios in ascending order, so the prios of a
// parent's children must rise in the file's order (first match wins) — but they need not be
// consecutive. Each child gets a slot of PRIOS_PER_CHILD prios (IPv4, IPv6, family-free),
// and the slots are spread over the prio range with gaps, so that a class inserted, removed
// or changed later finds room beside its neighbours (placeSlots) while every other class
// keeps its prios: an apply then adds the new filters before it deletes the old ones and
// never touches a class that did not change (docs/plan.md, "Hitless changes").
import type { Filter } from '../model/types.js';
import { filterId } from '../model/ids.js';
import { CATCH_ALL_TOP, GROUP_PRIO_BASE, PRIOS_PER_CHILD, TOP_PRIO_LAST } from '../kernel/limits.js';
import { fnv1a, hex } from './classids.js';

/** A prio range for slots: slot u starts at first + PRIOS_PER_CHILD·u, for u < units. */
export interface SlotRange {
  first: number;
  units: number;
}

/** Top-level classes: prios 1…TOP_PRIO_LAST. */
export const TOP_RANGE: SlotRange = { first: 1, units: Math.floor(TOP_PRIO_LAST / PRIOS_PER_CHILD) };

/** Nested classes of every group of a device: GROUP_PRIO_BASE up to the catch-alls (one per group, from 0xffff down). */
export const groupRange = (groups: number): SlotRange => ({
  first: GROUP_PRIO_BASE,
  units: Math.floor((CATCH_ALL_TOP - groups - GROUP_PRIO_BASE + 1) / PRIOS_PER_CHILD),
});

/** At most this many free slots between two classes in a fresh tree (48 prios). */
const MAX_GAP = 16;

/**
 * The slots of n children in a fresh tree, in order: evenly apart with free slots before the
 * first, between any two and after the last (a prepended class needs room too). With more
 * children than that allows, consecutive slots (the check keeps n ≤ units).
 */
export function spreadSlots(n: number, range: SlotRange): number[] {
  const gap = Math.min(MAX_GAP, Math.floor(range.units / (n + 1)));
  return Array.from({ length: n }, (_, i) => (gap >= 1 ? gap * (i + 1) : i));
}

export const slotBase = (range: SlotRange, unit: number) => range.first + PRIOS_PER_CHILD * unit;

/** The slot a prio belongs to in a range, or undefined outside it. */
export function slotOf(range: SlotRange, prio: number): number | undefined {
  const u = Math.floor((prio - range.first) / PRIOS_PER_CHILD);
  return prio >= range.first && u < range.units ? u : undefined;
}

/**
 * Hash-table ids 1…0x7ff (the kernel numbers its own from 0x800), stable per key; `taken`
 * holds the ids already used on the device (u32 keeps one table list per qdisc).
 */
export function tableId(dev: string, key: string, taken: Set<number>): number {
  let id = 1 + (fnv1a(`${dev}/${key}`) % 0x7ff);
  while (taken.has(id)) id = id === 0x7ff ? 1 : id + 1;
  taken.add(id);
  return id;
}

/**
 * A filter moved to another prio (same dev, parent and nodes), its hash tables renamed by
 * `rename` (old handle 'a:' → new handle 'b:'), the node references to them too.
 */
export function movedFilter(f: Filter, prio: number, rename: (handle: string) => string): Filter {
  const ht = (h: string) => {
    const [table, ...rest] = h.split(':');
    return [rename(`${table}:`).slice(0, -1), ...rest].join(':');
  };
  const nodes = f.nodes.map((n) => ({ ...n, ...(n.ht ? { ht: ht(n.ht) } : {}), ...(n.link ? { link: ht(n.link) } : {}) }));
  const out: Filter = { ...f, id: filterId(f.dev, f.parent, prio), prio, nodes };
  if (f.tables) out.tables = f.tables.map((t) => ({ ...t, handle: rename(t.handle) }));
  return out;
}

/** One child's filters (1–3 prios from its slot's base) as the placement sees them. */
export interface Slot {
  /** What the slot classifies for, the same for the desired and the live copy: its classes' ids. */
  key: string;
  unit: number;
  filters: Filter[];
}

/** The key of a slot: dev, parent and every class its filters send to. */
export function slotKey(filters: Filter[]): string {
  if (filters.length > 1) return keyOf(filters);
  let key = slotKeys.get(filters[0]!);
  if (key === undefined) slotKeys.set(filters[0]!, (key = keyOf(filters)));
  return key;
}

// A filter's key, kept: a plan's filters are keyed again when the apply is verified (the
// desired ones and, read again alike, the live ones: state/filters.ts); never changed afterwards.
const slotKeys = new WeakMap<Filter, string>();

function keyOf(filters: Filter[]): string {
  const f = filters[0]!;
  const ids = new Set<string>();
  for (const x of filters) for (const n of x.nodes) if (n.flowid) ids.add(n.flowid);
  return `${f.dev} ${f.parent} ${[...ids].sort().join(',')}`;
}

/** Filters grouped into slots of a range (in ascending prio), by the slot their prio falls in. */
export function slotsOf(filters: Filter[], range: SlotRange): Slot[] {
  const byUnit = new Map<string, Filter[]>();
  for (const f of filters) {
    const u = slotOf(range, f.prio);
    if (u === undefined) continue;
    const k = `${f.dev} ${f.parent} ${u}`;
    const l = byUnit.get(k);
    if (l) l.push(f);
    else byUnit.set(k, [f]);
  }
  return [...byUnit.values()].map((fs) => ({ key: slotKey(fs), unit: slotOf(range, fs[0]!.prio)!, filters: fs.sort((a, b) => a.prio - b.prio) }));
}


/**
 * Places the desired filters of one device's range against the live ones (both in slots):
 * a slot whose live copy classifies the same (`equal`, at the live prio and with the live
 * table ids) keeps its live prios; a new or changed one goes to its own compiled slot if
 * that is free and in order, else to a free slot between its placed neighbours, with fresh
 * table ids — never onto a live filter's prio, so the plan adds it before the old one goes.
 * Undefined when the gaps run out (the caller keeps the compiled prios).
 */
export function placeSlots(
  desired: Slot[],
  live: Slot[],
  range: SlotRange,
  liveTables: Set<number>,
  equal: (want: Filter, live: Filter) => boolean,
  adopt?: (want: Filter, live: Filter) => Filter | undefined,
): Slot[] | undefined {
  const liveUnits = new Set(live.map((l) => l.unit));
  const byKey = new Map<string, Slot[]>();
  for (const l of live) {
    const list = byKey.get(l.key);
    if (list) list.push(l);
    else byKey.set(l.key, [l]);
  }
  /** The desired slot moved to unit u with the table handles `handles` (old → new). */
  const moveTo = (d: Slot, u: number, rename: (h: string) => string): Slot => ({
    key: d.key,
    unit: u,
    filters: d.filters.map((f) => movedFilter(f, slotBase(range, u) + (f.prio - slotBase(range, d.unit)), rename)),
  });
  /** The live copy of d that classifies alike, as d at that copy's prios and tables. */
  const kept = (d: Slot): Slot | undefined => {
    for (const l of byKey.get(d.key) ?? []) {
      if (l.filters.length !== d.filters.length) continue;
      const offsets = (s: Slot) => s.filters.map((f) => `${f.prio - slotBase(range, s.unit)} ${f.protocol} ${f.tables?.length ?? 0}`).join();
      if (offsets(l) !== offsets(d)) continue;
      const names = new Map<string, string>();
      d.filters.forEach((f, i) => f.tables?.forEach((t, k) => names.set(t.handle, l.filters[i]!.tables![k]!.handle)));
      // At the live copy's prios with its tables already (every plan of an unchanged tree): d itself.
      const inPlace = l.unit === d.unit && [...names].every(([from, to]) => from === to);
      const moved = inPlace ? d : moveTo(d, l.unit, (h) => names.get(h) ?? h);
      if (moved.filters.every((f, i) => equal(f, l.filters[i]!))) return claim(moved);
    }
    return adopted(d);
  };
  const claimed = new Set<number>();
  const claim = (s: Slot) => (claimed.add(s.unit), s);
  const adopted = adopter(live, range, claimed, equal, adopt);
  // First choice per slot: its live copy, or its own slot when nothing live is there.
  const clashes = (d: Slot) => liveUnits.has(d.unit) || d.filters.some((f) => f.tables?.some((t) => liveTables.has(parseInt(t.handle, 16))));
  /**
   * Its own slot holds part of it and nothing else (an apply cut short, or failed, after it
   * deleted some of its prios): the rest is added there, beside what stays. A restore puts
   * the snapshot's filters back at their own prios this way.
   */
  const partly = (d: Slot) =>
    (byKey.get(d.key) ?? []).some((l) => l.unit === d.unit && l.filters.every((lf) => d.filters.some((df) => df.prio === lf.prio && equal(df, lf))));
  const choice = desired.map((d) => kept(d) ?? (partly(d) ? d : clashes(d) ? undefined : d));
  // Prios must rise in the file's order: keep the longest rising run of choices.
  const keep = risingSubset(choice.map((c) => c?.unit));
  const placed: Array<Slot | undefined> = choice.map((c, i) => (keep.has(i) ? c : undefined));
  const used = new Set([...liveUnits, ...placed.flatMap((p) => (p ? [p.unit] : []))]);
  const taken = new Set(liveTables);
  for (const p of placed) for (const f of p?.filters ?? []) for (const t of f.tables ?? []) taken.add(parseInt(t.handle, 16));
  return fillGaps(desired, placed, used, taken, range, moveTo);
}

/**
 * A hashed slot whose live copy has the same tables and links and classifies for some of
 * the same classes: its filters take the live prios, tables and node ids, their new bucket
 * nodes free ids (`adopt`), so a plan adds and deletes single nodes (one circuit). The live
 * slot taken goes into `claimed`.
 */
function adopter(
  live: Slot[],
  range: SlotRange,
  claimed: Set<number>,
  equal: (want: Filter, live: Filter) => boolean,
  adopt: ((want: Filter, live: Filter) => Filter | undefined) | undefined,
): (d: Slot) => Slot | undefined {
  // Live slots with hash tables by "dev parent".
  const hashed = new Map<string, Slot[]>();
  for (const l of live) {
    if (!l.filters.some((f) => f.tables?.length)) continue;
    const k = `${l.filters[0]!.dev} ${l.filters[0]!.parent}`;
    (hashed.get(k) ?? hashed.set(k, []).get(k)!).push(l);
  }
  return (d) => {
    if (!adopt || !d.filters.some((f) => f.tables?.length)) return undefined;
    const mine = new Set(d.key.split(' ')[2]!.split(','));
    for (const l of hashed.get(`${d.filters[0]!.dev} ${d.filters[0]!.parent}`) ?? []) {
      if (claimed.has(l.unit) || l.filters.length !== d.filters.length || !l.key.split(' ')[2]!.split(',').some((id) => mine.has(id))) continue;
      const filters: Filter[] = [];
      for (let i = 0; i < d.filters.length; i++) {
        const [f, lf] = [d.filters[i]!, l.filters[i]!];
        if (f.prio - slotBase(range, d.unit) !== lf.prio - slotBase(range, l.unit)) break;
        const at = movedFilter(f, lf.prio, (h) => h);
        const placed = f.tables?.length ? adopt(at, lf) : equal(at, lf) ? at : undefined;
        if (!placed) break;
        filters.push(placed);
      }
      if (filters.length === d.filters.length) {
        claimed.add(l.unit);
        return { key: d.key, unit: l.unit, filters };
      }
    }
    return undefined;
  };
}

/**
 * The slots not placed yet, each run of them spread over the free slots between its placed
 * neighbours, with fresh table ids (not in `taken`); undefined when the gaps run out.
 */
function fillGaps(
  desired: Slot[],
  placed: Array<Slot | undefined>,
  used: Set<number>,
  taken: Set<number>,
  range: SlotRange,
  moveTo: (d: Slot, u: number, rename: (h: string) => string) => Slot,
): Slot[] | undefined {
  for (let i = 0; i < desired.length; ) {
    if (placed[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < desired.length && !placed[j]) j++;
    const lo = i > 0 ? placed[i - 1]!.unit : -1;
    // After the last placed slot: as far apart as a fresh tree's, not across the whole range.
    const hi = j < desired.length ? placed[j]!.unit : Math.min(range.units, lo + 1 + (j - i + 1) * MAX_GAP);
    const free: number[] = [];
    for (let u = lo + 1; u < hi; u++) if (!used.has(u)) free.push(u);
    const k = j - i;
    if (free.length < k) return undefined;
    for (let n = 0; n < k; n++) {
      const u = free[Math.floor(((n + 1) * free.length) / (k + 1))]!;
      used.add(u);
      const d = desired[i + n]!;
      const f0 = d.filters[0]!;
      const names = new Map<string, string>();
      placed[i + n] = moveTo(d, u, (h) => {
        if (!names.has(h)) names.set(h, `${tableId(f0.dev, `${f0.parent}/${slotBase(range, u)}/${names.size}`, taken).toString(16)}:`);
        return names.get(h)!;
      });
    }
    i = j;
  }
  return placed as Slot[];
}

/** Indexes of a longest strictly rising subsequence of the defined values (ties: the earliest). */
function risingSubset(values: Array<number | undefined>): Set<number> {
  const tails: number[] = []; // index of the last element of the best run of each length
  const prev = new Map<number, number>();
  values.forEach((v, i) => {
    if (v === undefined) return;
    let a = 0;
    let b = tails.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (values[tails[m]!]! < v) a = m + 1;
      else b = m;
    }
    if (a > 0) prev.set(i, tails[a - 1]!);
    tails[a] = i;
  });
  const out = new Set<number>();
  for (let i: number | undefined = tails[tails.length - 1]; i !== undefined; i = prev.get(i)) out.add(i);
  return out;
}
