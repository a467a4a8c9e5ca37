// Phase 1 of a plan: how each desired object stands against the live one with its id —
// the same, to create, to change in place, or to replace (and why). The kind decides;
// what it cannot see by itself (other objects, the plan's mode) it asks of the context.
import type { DesiredState, Filter, KernelObject } from '../model/types.js';
import { diffFields, kindOf, CREATE, SAME, type JudgeContext, type Verdict } from '../kinds/index.js';
import { unmodeledOf, type LiveItem } from '../state/index.js';
import type { Wanted } from './objects.js';
import type { Plan, PlanObject } from './types.js';

export interface Judged {
  /** By id: should a hand-made state repeat an id, the last copy's. */
  verdicts: Map<string, Verdict>;
  errors: string[];
  /** sysfs figures skipped where their directory is absent. */
  skipped: string[];
}

/** The classes a filter's nodes send to. */
const flowidsOf = (f: Filter) => [...new Set(f.nodes.flatMap((n) => (n.flowid ? [n.flowid] : [])))];

export function judgeAll(wanted: Wanted[], desired: DesiredState, liveById: Map<string, LiveItem>, mode: Plan['mode']): Judged {
  const out: Judged = { verdicts: new Map(), errors: [], skipped: [] };
  const ctx: JudgeContext = {
    mode,
    desired: desired.objects,
    live: (id) => liveById.get(id),
    error: (m) => out.errors.push(m),
    skipped: (p) => out.skipped.push(p),
    moved: prioMoves(wanted, liveById),
  };
  for (const w of wanted) out.verdicts.set(w.obj.id, judge(w, liveById.get(w.obj.id), ctx));
  return out;
}

function judge({ obj, rb }: Wanted, live: LiveItem | undefined, ctx: JudgeContext): Verdict {
  const kind = kindOf(obj);
  if (kind.judge) return kind.judge(obj, live, ctx);
  if (!live) return CREATE;
  let fields = diffFields(rb, live);
  if (kind.ignores && fields.length > 1) fields = fields.filter((f) => !kind.ignores!(f, obj, live as PlanObject));
  if (fields.length === 0) return SAME;
  const unmodeled = unmodeledOf(live as KernelObject);
  if (unmodeled.length)
    return { t: 'replace', fields, reason: `the live object has settings qospolicy does not model (${[...new Set(unmodeled.map(([what]) => what))].join(', ')})` };
  if (!kind.decide) return { t: 'replace', fields, reason: `${fields.map((f) => f.field).join(', ')} cannot be changed in place` };
  return kind.decide(rb, live as PlanObject, fields, ctx);
}

/**
 * Why a filter's prio now classifies for other classes, when that is because filters moved:
 * prios rise in the classes' order in the file, and where no prio is left free between
 * two classes (hitless.ts) the compiled ones are used, which may give a class's prio to
 * another (their classids stay). Moved means the new classes had their filter
 * at another prio, or the old ones have theirs at another prio now. Undefined otherwise.
 */
function prioMoves(wanted: Wanted[], liveById: Map<string, LiveItem>): JudgeContext['moved'] {
  // Built for the first filter whose classes changed (most plans have none: measured, a third of a verify plan's time).
  let maps: { sides: Record<'live' | 'desired', Map<string, number[]>>; classPaths: Map<string, string> } | undefined;
  const built = () =>
    (maps ??= {
      sides: { live: priosByClass(liveById.values()), desired: priosByClass(wanted.map((w) => w.obj)) },
      // Policy paths of classes by "dev classid": the desired ones, and in a diff the old ones.
      classPaths: new Map([...liveById.values(), ...wanted.map((w) => w.obj)].flatMap((o) => (o.kind === 'class' && o.origin ? [[`${o.dev} ${o.classid}`, o.origin.path] as const] : []))),
    });
  const classPath = (dev: string, classid: string) => built().classPaths.get(`${dev} ${classid}`);
  return (want, l) => {
    const before = flowidsOf(l);
    const after = flowidsOf(want);
    if (before.length === 0 || after.length === 0 || before.some((id) => after.includes(id))) return undefined;
    const { sides } = built();
    const elsewhere = (ids: string[], side: 'live' | 'desired', prio: number) => ids.some((id) => sides[side].get(`${want.dev} ${want.parent} ${id}`)?.some((p) => p !== prio));
    if (!elsewhere(after, 'live', l.prio) && !elsewhere(before, 'desired', want.prio)) return undefined;
    const named = (ids: string[]) => {
      const shown = ids.slice(0, 3).map((id) => (classPath(want.dev, id) ? `${classPath(want.dev, id)} (${id})` : id));
      return ids.length > 3 ? `${shown.join(', ')} and ${ids.length - 3} more` : shown.join(', ');
    };
    return `The prio passes from ${named(before)} to ${named(after)}: no prio was free between the classes around it, so the prios follow the order of the classes in the file afresh (classids stay).`;
  };
}

/** The prios of each class's filters by "dev parent flowid". */
function priosByClass(objs: Iterable<PlanObject>): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const o of objs) {
    if (o.kind !== 'filter') continue;
    for (const id of flowidsOf(o)) {
      const key = `${o.dev} ${o.parent} ${id}`;
      const list = m.get(key);
      if (list) list.push(o.prio);
      else m.set(key, [o.prio]);
    }
  }
  return m;
}
