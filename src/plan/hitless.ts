// Hitless changes: an apply never leaves a class's traffic without its filter. Two parts,
// both here so the planner calls each from one place:
// - placeFilters: the desired filters keep the prios their live copies have; a new or
//   changed filter goes to a free prio beside its neighbours (backends/prios.ts), so it is
//   a new filter beside the old one, never the old one deleted and added again;
// - makeBeforeBreak: on each device the filters (and classes) that go are deleted after the
//   new ones are in place, and the hash tables of the filters that go are deleted by handle.
// What stays a break (a replaced root or hook qdisc, a class that moves to another parent, a
// leaf that becomes a group or back): docs/plan.md, "Hitless changes".
import type { DesiredState, Filter, KernelObject } from '../model/types.js';
import { groupRange, placeSlots, slotsOf, TOP_RANGE, type Slot } from '../backends/prios.js';
import { unmodeledOf, type LiveItem } from '../state/index.js';
import { adoptNodes } from './buckets.js';
import { diffFields, readbackOf } from './objects.js';
import type { Change, Step } from './types.js';

const isHook = (f: Filter) => f.parent === 'ingress' || f.parent === 'egress';

/** Classifies the same as the live filter (compared as the kernel shows it). */
function equal(want: Filter, live: Filter): boolean {
  if (unmodeledOf(live).length) return false;
  return diffFields(readbackOf([want])[0]!, live).length === 0;
}

export interface Placed {
  desired: DesiredState;
  /**
   * Per live filter that goes: the commands that delete its hash tables after it, and
   * whether they can run at once (through a filter that is already there and stays).
   */
  tableSteps: Map<string, { argvs: string[][]; now: boolean }>;
  /** Hashed filters changed node by node (buckets.ts): ids of the placed filters, each at its live copy's prio. */
  inPlace: Set<string>;
}

/** The desired state with its filters placed against the live ones (see above). */
export function placeFilters(desired: DesiredState, live: LiveItem[]): Placed {
  const liveFilters = live.filter((o): o is Filter & LiveItem => o.kind === 'filter' && !isHook(o as Filter)) as Filter[];
  const wanted = desired.objects.filter((o): o is Filter => o.kind === 'filter' && !isHook(o));
  const tableSteps: Placed['tableSteps'] = new Map();
  const inPlace = new Set<string>();
  if (liveFilters.length === 0 || wanted.length === 0) return { desired, tableSteps, inPlace };
  const adopted = new WeakSet<Filter>();
  const adopt = (want: Filter, l: Filter) => {
    const f = adoptNodes(want, l);
    if (f) adopted.add(f);
    return f;
  };

  const moved = new Map<Filter, Filter>();
  for (const dev of new Set(wanted.map((f) => f.dev))) {
    const mine = wanted.filter((f) => f.dev === dev);
    const theirs = liveFilters.filter((f) => f.dev === dev);
    const liveTables = new Set(theirs.flatMap((f) => (f.tables ?? []).map((t) => parseInt(t.handle, 16))));
    // Groups: classes that are some class's parent, but the root class.
    const classes = desired.objects.filter((o) => o.kind === 'class' && o.dev === dev);
    const groups = new Set(classes.flatMap((c) => (c.kind === 'class' && c.parent !== '1:1' && c.parent !== '1:' ? [c.parent] : []))).size;
    for (const range of [TOP_RANGE, groupRange(groups)]) {
      const d = slotsOf(mine, range).sort((a, b) => a.unit - b.unit);
      const placed = placeSlots(d, slotsOf(theirs, range), range, liveTables, equal, adopt);
      if (!placed) continue; // no room: the compiled prios (a filter may then be replaced in place)
      placed.forEach((p: Slot, i) => p.filters.forEach((f, k) => moved.set(d[i]!.filters[k]!, f)));
      for (const p of placed) for (const f of p.filters) for (const t of f.tables ?? []) liveTables.add(parseInt(t.handle, 16));
    }
  }
  const objects: KernelObject[] = desired.objects.map((o) => (o.kind === 'filter' ? (moved.get(o) ?? o) : o));
  const out = { ...desired, objects };

  // The tables of a live filter that goes: through a desired filter of the same device and
  // protocol (it is there by then: created before, or kept).
  const ids = new Set(objects.map((o) => o.id));
  const liveById = new Map(liveFilters.map((f) => [f.id, f]));
  for (const o of objects) if (o.kind === 'filter' && adopted.has(o) && liveById.has(o.id) && !equal(o, liveById.get(o.id)!)) inPlace.add(o.id);
  const stays = (o: Filter) => liveById.has(o.id) && equal(o, liveById.get(o.id)!);
  for (const l of liveFilters) {
    if (!l.tables?.length || ids.has(l.id)) continue;
    const fits = (o: KernelObject): o is Filter => o.kind === 'filter' && !isHook(o) && o.dev === l.dev && o.protocol === l.protocol;
    const kept = objects.find((o) => fits(o) && stays(o)) as Filter | undefined;
    const via = kept ?? (objects.find(fits) as Filter | undefined);
    if (!via) continue;
    const argvs = l.tables.map((t) => ['tc', 'filter', 'del', 'dev', l.dev, 'parent', via.parent, 'protocol', via.protocol, 'prio', String(via.prio), 'handle', t.handle, 'u32']);
    tableSteps.set(l.id, { argvs, now: kept !== undefined });
  }
  return { desired: out, tableSteps, inPlace };
}

/**
 * Steps reordered so that, on each device, filters and classes that go are deleted after
 * the new ones are created (each filter's hash tables right after it). A device keeps the
 * planned order (removals first) where that cannot work: a qdisc goes or a class is
 * replaced (its old self must go before it comes back), or a class that has children gets
 * a leaf qdisc (htb refuses it while the children are there).
 */
export function makeBeforeBreak(steps: Step[], changes: Change[], live: LiveItem[], tableSteps: Placed['tableSteps']): Step[] {
  const devOf = (s: Step): string | undefined => {
    const o = changes[s.change]!.after ?? changes[s.change]!.before!;
    return o.kind === 'filter' || o.kind === 'node' || o.kind === 'class' || o.kind === 'qdisc' ? o.dev : undefined;
  };
  const parents = new Set(live.flatMap((o) => (o.kind === 'class' ? [`${o.dev} ${o.parent}`] : [])));
  const out: Step[] = [];
  for (let i = 0; i < steps.length; ) {
    const dev = devOf(steps[i]!);
    let j = i + 1;
    while (j < steps.length && dev !== undefined && devOf(steps[j]!) === dev) j++;
    const run = steps.slice(i, j);
    i = j;
    const kindOf = (s: Step) => changes[s.change]!;
    const keep =
      dev === undefined ||
      run.some((s) => {
        const c = kindOf(s);
        if (s.phase === 'delete') return c.kind === 'qdisc' || (c.kind === 'class' && c.action === 'replace');
        return s.phase === 'create' && c.kind === 'qdisc' && c.after?.kind === 'qdisc' && parents.has(`${dev} ${c.after.parent}`);
      });
    const late = (s: Step) => !keep && s.phase === 'delete' && kindOf(s).action === 'delete';
    const tables = (s: Step) => (s.phase === 'delete' && kindOf(s).action === 'delete' ? tableSteps.get(kindOf(s).id) : undefined);
    const step = (argv: string[], s: Step): Step => ({ tool: 'tc', argv, change: s.change, phase: 'delete' });
    /** Table deletions that wait for the filter they go through (kept order: created later in the run). */
    const after: Step[] = [];
    const emit = (s: Step) => {
      out.push(s);
      const t = tables(s);
      if (!t) return;
      if (!keep || t.now) out.push(...t.argvs.map((a) => step(a, s)));
      else after.push(...t.argvs.map((a) => step(a, s)));
    };
    run.filter((s) => !late(s)).forEach(emit);
    run.filter(late).forEach(emit);
    out.push(...after);
  }
  return out;
}
