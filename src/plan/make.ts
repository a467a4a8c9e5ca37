// desired × live → Plan. Objects are matched by id; each kind decides whether a difference
// can be changed in place (htb class rate, leaf fifo limit, a down ifb, a runtime module
// parameter) or needs a replace, and a replace or removal takes with it what the kernel
// removes alongside (everything under a root qdisc, a hook's filters, a chain's rules) or
// refuses to remove first (an htb class with children or with filters pointing at it).
import type { DesiredState, Filter, HtbClass, KernelObject, Link, ModuleLoad } from '../model/types.js';
import { classId, linkId, moduleId, qdiscId } from '../model/ids.js';
import { LINK_SETTINGS } from '../model/types.js';
import { createArgvs } from '../render/commands.js';
import { chainId, htbBufferRoundTrip, inScope, shownRate, shownSize, unmodeledOf, type IptablesChain, type LiveItem, type LiveLink, type LiveSysfs, type Scope } from '../state/index.js';
import { address, diffFields, readbackOf, wantedList } from './objects.js';
import { createSteps, deleteSteps, updateSteps, type Argv } from './steps.js';
import { liveDigest } from './digest.js';
import { makeBeforeBreak, placeFilters } from './hitless.js';
import type { Action, Change, FieldChange, Phase, Plan, PlanObject, PolicyRef, Step } from './types.js';

export interface MakePlanOptions {
  /**
   * `diff`: `live` is what an older policy leaves (no system was read); missing required
   * interfaces are not errors. `teardown`: the desired state is nothing (rendered as a removal).
   */
  mode?: Plan['mode'];
  policy?: PolicyRef;
  base?: PolicyRef;
}

type Verdict =
  | { t: 'same' }
  | { t: 'create' }
  | { t: 'update'; fields: FieldChange[]; manual?: string }
  | { t: 'replace'; fields: FieldChange[]; reason: string };

const SAME: Verdict = { t: 'same' };
const CREATE: Verdict = { t: 'create' };

/** The classes a filter's nodes send to. */
const flowidsOf = (f: Filter) => [...new Set(f.nodes.flatMap((n) => (n.flowid ? [n.flowid] : [])))];

const CLASS_IN_PLACE = new Set(['rate', 'ceil', 'prio', 'quantum', 'burst', 'cburst']);

export function makePlan(compiled: DesiredState, live: LiveItem[], scope: Scope, opts: MakePlanOptions = {}): Plan {
  const mode = opts.mode ?? 'plan';
  const liveIn = live.filter((o) => inScope(o, scope));
  // Filters keep their live prios; new and changed ones go beside them (hitless.ts).
  const { desired, tableSteps } = placeFilters(compiled, liveIn);
  const errors: string[] = [];
  const notes: string[] = [...desired.notes];
  const { objs: wanted, src } = wantedList(desired);
  const wantedIds = new Set(wanted.map((o) => o.id));
  // Readbacks are compared only with live objects: none is computed against an empty system.
  let readbacks: KernelObject[] | undefined;
  const readback = (i: number): PlanObject => (src[i]! < 0 ? wanted[i]! : (readbacks ??= readbackOf(desired.objects))[src[i]!]!);

  const liveById = new Map<string, LiveItem>();
  for (const o of liveIn) if (!liveById.has(o.id)) liveById.set(o.id, o);

  /** Built when first needed, by classPath and prioSides. */
  let classPaths: Map<string, string> | undefined;
  let prios: { live: Map<string, number[]>; desired: Map<string, number[]> } | undefined;

  // ---- per-object verdicts (by id: should a hand-made state repeat an id, the last copy's) ----
  const verdicts = new Map<string, Verdict>();
  const skippedSysfs: string[] = [];
  for (let i = 0; i < wanted.length; i++) verdicts.set(wanted[i]!.id, judge(i, liveById.get(wanted[i]!.id)));

  function judge(i: number, l: LiveItem | undefined): Verdict {
    const o = wanted[i]!;
    switch (o.kind) {
      case 'link':
        return judgeLink(o, l as LiveLink | undefined);
      case 'module':
        return judgeModule(o, l as ModuleLoad | undefined);
      case 'sysfs': {
        const s = l as LiveSysfs | undefined;
        if (!s) return CREATE;
        if (s.absent) {
          skippedSysfs.push(o.path);
          return SAME;
        }
        return s.value === o.value ? SAME : { t: 'update', fields: [{ field: 'value', before: s.value, after: o.value }] };
      }
      case 'chain': {
        const c = l as IptablesChain | undefined;
        if (!c) return CREATE;
        return c.jumps === 1 ? SAME : { t: 'update', fields: [{ field: 'jumps', before: c.jumps, after: 1 }] };
      }
      default: {
        if (!l) return CREATE;
        const want = readback(i);
        let fields = diffFields(want, l);
        if (o.kind === 'class' && fields.length > 1) fields = fields.filter((f) => !burstSent(f, o, l as HtbClass));
        if (fields.length === 0) return SAME;
        const unmodeled = unmodeledOf(l as KernelObject);
        if (unmodeled.length)
          return { t: 'replace', fields, reason: `the live object has settings qospolicy does not model (${[...new Set(unmodeled.map(([what]) => what))].join(', ')})` };
        return decide(want, l as PlanObject, fields);
      }
    }
  }

  /**
   * A burst or cburst that differs only because its rate does. The kernel holds a burst as a
   * transmit time at the class's rate, and tc shows it as bytes again at that rate (see
   * state/readback.ts): one size sent at two rates reads back as two sizes (67136b reads
   * 67133b at 10mbit, 67128b at 30mbit). The size changes only when the live reading is not
   * what the size now sent would read at the live rate. (When the rate is the same, the
   * readbacks compare exactly; when it differs, `tc class change` sends every parameter
   * anyway, so no command depends on this.)
   */
  function burstSent(f: FieldChange, sent: HtbClass, live: HtbClass): boolean {
    if (f.field !== 'burst' && f.field !== 'cburst') return false;
    const rate = f.field === 'burst' ? live.rate : live.ceil;
    if (rate === shownRate(f.field === 'burst' ? sent.rate : sent.ceil)) return false;
    return shownSize(htbBufferRoundTrip(rate, sent[f.field])) === live[f.field];
  }

  function judgeLink(want: Link, l: LiveLink | undefined): Verdict {
    if (!l) {
      if (want.type === 'require') {
        if (mode === 'plan') errors.push(`interface ${want.name} does not exist: the policy needs it`);
        return SAME;
      }
      if (want.type === 'imq' && mode === 'plan' && liveById.has(moduleId('imq')))
        errors.push(`${want.name} does not exist although imq is loaded: it was loaded with fewer devices than the policy needs (numdevs); reload it`);
      return CREATE;
    }
    if (l.type !== want.type) {
      errors.push(`${want.name} exists but is ${l.driver ? `a ${l.driver}` : 'a physical'} device, not ${want.type}`);
      return SAME;
    }
    if (mode === 'plan' && want.minTxQueues && l.txQueues < want.minTxQueues)
      errors.push(`${want.name} has ${l.txQueues} TX queue(s); taprio needs ${want.minTxQueues}, one per slot`);
    const fields: FieldChange[] = [];
    if (want.type !== 'require' && !l.up) fields.push({ field: 'up', before: false, after: true });
    for (const [field] of LINK_SETTINGS) {
      if (want[field] !== undefined && l[field] !== want[field]) fields.push({ field, before: l[field], after: want[field] });
    }
    return fields.length ? { t: 'update', fields } : SAME;
  }

  function judgeModule(want: ModuleLoad, l: ModuleLoad | undefined): Verdict {
    if (!l) {
      // The kernel loads a link driver itself for `ip link add … type ifb` (and ifb is often
      // built in, without a /sys/module entry): its load-time options only matter for
      // /etc/modprobe.d. Modules whose devices come only from loading them (imq) are loaded.
      const autoloaded = !want.runtime && desired.objects.some((o) => o.kind === 'link' && o.type === want.module && createArgvs(o)[0]?.[2] === 'add');
      return autoloaded ? SAME : CREATE;
    }
    // Only parameters the module shows in sysfs can be compared (ifb's numifbs, imq's numdevs are hidden).
    const fields = Object.entries(want.params)
      .filter(([k, v]) => k in l.params && l.params[k] !== v)
      .map(([k, v]) => ({ field: k, before: l.params[k], after: v }));
    if (fields.length === 0) return SAME;
    if (want.runtime) return { t: 'update', fields };
    const args = Object.entries(want.params).map(([k, v]) => `${k}=${v}`).join(' ');
    return {
      t: 'update',
      fields,
      manual: `its parameters take effect only when it is loaded: reload it (modprobe -r ${want.module} && modprobe ${want.module} ${args}); unloading it removes its devices, so qospolicy does not do it`,
    };
  }

  function decide(want: PlanObject, l: PlanObject, fields: FieldChange[]): Verdict {
    const names = fields.map((f) => f.field);
    switch (want.kind) {
      case 'class':
        if (names.every((f) => CLASS_IN_PLACE.has(f))) return { t: 'update', fields };
        if (names.includes('parent'))
          return { t: 'replace', fields, reason: 'an htb class cannot move to another parent (tc class change accepts a new parent and ignores it): it is deleted and added again' };
        return { t: 'replace', fields, reason: `${names.filter((f) => !CLASS_IN_PLACE.has(f)).join(', ')} cannot be changed in place` };
      case 'qdisc': {
        const q = l as typeof want;
        if (want.parent === 'root') {
          const reason =
            q.qdisc !== want.qdisc
              ? `the root qdisc changes from ${q.qdisc} to ${want.qdisc}: everything under it is rebuilt`
              : want.qdisc === 'htb'
                ? 'HTB has no qdisc change operation ("Change operation not supported"): the root is added again and everything under it rebuilt'
                : `a ${want.qdisc} root is replaced, not changed: everything under it is rebuilt`;
          return { t: 'replace', fields, reason };
        }
        if (want.parent === 'ingress')
          return {
            t: 'replace',
            fields,
            reason: q.qdisc !== want.qdisc ? `${q.qdisc} and ${want.qdisc} are different qdiscs: the hook is added again with its filters` : 'the hook qdisc is added again with its filters',
          };
        const paramKeys = new Set([...want.params.map(([k]) => k), ...q.params.map(([k]) => k)]);
        if (q.qdisc === want.qdisc && q.handle === want.handle && names.every((f) => paramKeys.has(f))) return { t: 'update', fields };
        return { t: 'replace', fields, reason: `a leaf qdisc whose ${names.filter((f) => !paramKeys.has(f)).join(', ')} differs is deleted and added again` };
      }
      case 'filter': {
        const moved = passedOn(want as Filter, l as Filter);
        return { t: 'replace', fields, reason: `${moved ? `${moved} ` : ''}u32 nodes are not changed in place (tc filter replace keeps old keys): the prio is deleted and its nodes added again` };
      }
      default:
        return { t: 'replace', fields, reason: `${names.join(', ')} cannot be changed in place` };
    }
  }

  /**
   * Why a filter's prio now classifies for other classes, when that is because filters moved:
   * prios rise in the classes' order in the file, and where no prio is left free between
   * two classes (hitless.ts) the compiled ones are used, which may give a class's prio to
   * another (their classids stay). Moved means the new classes had their filter at another
   * prio, or the old ones have theirs at another prio now. Undefined otherwise.
   */
  function passedOn(want: Filter, l: Filter): string | undefined {
    const before = flowidsOf(l);
    const after = flowidsOf(want);
    if (before.length === 0 || after.length === 0 || before.some((id) => after.includes(id))) return undefined;
    const elsewhere = (ids: string[], side: 'live' | 'desired', prio: number) =>
      ids.some((id) => prioSides()[side].get(`${want.dev} ${want.parent} ${id}`)?.some((p) => p !== prio));
    if (!elsewhere(after, 'live', l.prio) && !elsewhere(before, 'desired', want.prio)) return undefined;
    const named = (ids: string[]) => {
      const shown = ids.slice(0, 3).map((id) => (classPath(want.dev, id) ? `${classPath(want.dev, id)} (${id})` : id));
      return ids.length > 3 ? `${shown.join(', ')} and ${ids.length - 3} more` : shown.join(', ');
    };
    return `The prio passes from ${named(before)} to ${named(after)}: no prio was free between the classes around it, so the prios follow the order of the classes in the file afresh (classids stay).`;
  }
  /** The prios of each class's filters by "dev parent flowid", live and desired (built once). */
  function prioSides() {
    if (!prios) {
      const of = (objs: Iterable<PlanObject>) => {
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
      };
      prios = { live: of(liveById.values()), desired: of(wanted) };
    }
    return prios;
  }
  /** Policy paths of classes by "dev classid": the desired ones, and in a diff the old ones. */
  function classPath(dev: string, classid: string): string | undefined {
    if (!classPaths) {
      classPaths = new Map();
      for (const o of [...liveById.values(), ...wanted]) if (o.kind === 'class' && o.origin) classPaths.set(`${o.dev} ${o.classid}`, o.origin.path);
    }
    return classPaths.get(`${dev} ${classid}`);
  }

  // ---- what goes: removals, replaces, and what they take along ----
  const deletable = (o: LiveItem) => {
    // A down imq device is as removed as one can be: the module owns it.
    if (o.kind === 'link') return scope.links.some((x) => x.name === o.name && x.type === o.type) && !(o.type === 'imq' && !(o as LiveLink).up);
    return o.kind !== 'module' && o.kind !== 'sysfs';
  };
  /** Live objects removed by a command of their own (value: the change that forced it, if another). */
  const explicit = new Map<string, string | undefined>();
  for (const [id, v] of verdicts) if (v.t === 'replace' && liveById.has(id)) explicit.set(id, undefined);
  for (const o of liveById.values()) if (!wantedIds.has(o.id) && deletable(o)) explicit.set(o.id, undefined);

  /** Leaf qdiscs by "dev handle" (a filter may hang off one), built once when first needed. */
  let leaves: Map<string, LiveItem> | undefined;
  const leafByHandle = () => {
    if (!leaves) {
      leaves = new Map();
      for (const q of liveById.values()) if (q.kind === 'qdisc' && q.parent !== 'root' && q.parent !== 'ingress') leaves.set(`${q.dev} ${q.handle}`, q);
    }
    return leaves;
  };
  /** Containers never change during a plan: computed once per live object. */
  const containerMemo = new Map<string, string[]>();
  const containersOf = (id: string): string[] => {
    let c = containerMemo.get(id);
    if (c === undefined) containerMemo.set(id, (c = containers(liveById.get(id)!)));
    return c;
  };
  const containers = (o: LiveItem): string[] => {
    const has = (id: string) => liveById.has(id);
    if (o.kind === 'iptables') return [chainId(o.family, o.chain)].filter(has);
    if (o.kind !== 'qdisc' && o.kind !== 'class' && o.kind !== 'filter') return [];
    const dev = o.dev;
    const out: string[] = [];
    // Deleting an ifb device takes its tc objects along; an imq device is only taken down.
    if (scope.links.some((x) => x.name === dev && x.type === 'ifb')) out.push(linkId(dev));
    const hook = o.kind === 'filter' ? o.parent === 'ingress' || o.parent === 'egress' : o.kind === 'qdisc' && o.parent === 'ingress';
    if (o.kind === 'qdisc' && (o.parent === 'root' || o.parent === 'ingress')) return out.filter(has);
    if (hook) return [...out, qdiscId(dev, 'ingress')].filter(has);
    out.push(qdiscId(dev, 'root'));
    if (o.kind === 'qdisc') out.push(classId(dev, o.parent));
    if (o.kind === 'filter') {
      out.push(classId(dev, o.parent));
      const leaf = leafByHandle().get(`${dev} ${o.parent}`);
      if (leaf && leaf.kind === 'qdisc') out.push(classId(dev, leaf.parent), leaf.id);
    }
    return out.filter(has);
  };
  /**
   * Live classes and filters by the "dev classid" they hang under (classes) or point at
   * (filters), each list in live order: built once, not a scan of the live state per class.
   */
  let users: Map<string, string[]> | undefined;
  const usersOf = (dev: string, classid: string): string[] => {
    if (!users) {
      const m = new Map<string, string[]>();
      const add = (key: string, id: string) => {
        const l = m.get(key);
        if (!l) m.set(key, [id]);
        else if (l[l.length - 1] !== id) l.push(id); // a filter once, however many of its nodes point there
      };
      for (const x of liveById.values()) {
        if (x.kind === 'class') add(`${x.dev} ${x.parent}`, x.id);
        else if (x.kind === 'filter') for (const n of x.nodes) if (n.flowid !== undefined) add(`${x.dev} ${n.flowid}`, x.id);
      }
      users = m;
    }
    return users.get(`${dev} ${classid}`) ?? [];
  };
  /** What must be removed before an htb class can be: its children, and filters that point at it ("HTB class in use"). */
  const prerequisites = (o: LiveItem): string[] => (o.kind === 'class' ? usersOf(o.dev, o.classid) : []);
  /**
   * Prerequisites are removed by a command of their own even when a container of theirs goes
   * too: a filter attached at a group class that points at one of its children must go
   * before the child, and the child before the group.
   */
  const forced = new Set<string>();
  /**
   * u32 keeps hash tables per qdisc, shared by the filters at the qdisc, at its classes and
   * (clsact) at both hooks, and frees a table only with the qdisc's last u32 filter: deleting
   * the prio that made it leaves it behind, hidden, and adding it again fails ("Filter already
   * exists") or brings its old nodes back (measured). So a filter with hash tables goes only
   * together with every u32 filter of its qdisc.
   */
  const tableSharers = (o: LiveItem): string[] => {
    if (o.kind !== 'filter' || !(o.tables?.length)) return [];
    const hook = (p: string) => p === 'ingress' || p === 'egress';
    return [...liveById.values()]
      .filter((x) => x.kind === 'filter' && x.id !== o.id && x.dev === o.dev && hook(x.parent) === hook(o.parent) && !unmodeledOf(x).some(([what]) => what === 'classifier'))
      .map((x) => x.id);
  };
  const impliedBy = (id: string) => (forced.has(id) ? undefined : containersOf(id).find((c) => explicit.has(c)));
  const force = (p: string, cause: string) => {
    if (forced.has(p)) return false;
    forced.add(p);
    if (!explicit.has(p)) explicit.set(p, cause);
    return true;
  };
  /** The qdisc (or device) that takes everything of it along: then its u32 tables go too. */
  const wholeQdisc = (id: string) => {
    const by = impliedBy(id);
    const c = by === undefined ? undefined : liveById.get(by);
    return c !== undefined && (c.kind === 'link' || (c.kind === 'qdisc' && (c.parent === 'root' || c.parent === 'ingress')));
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of [...explicit.keys()]) {
      if (impliedBy(id)) continue;
      for (const p of prerequisites(liveById.get(id)!)) changed = force(p, id) || changed;
    }
    // A filter with hash tables that goes (by itself or with its class), unless its whole qdisc
    // goes or it goes by a command of its own, after which its tables are deleted (hitless.ts).
    for (const o of liveById.values()) {
      if (o.kind !== 'filter' || !o.tables?.length || !(explicit.has(o.id) || impliedBy(o.id)) || wholeQdisc(o.id) || (tableSteps.has(o.id) && !impliedBy(o.id))) continue;
      for (const p of tableSharers(o)) changed = force(p, o.id) || changed;
    }
  }
  /** Every live object that goes, and whether the kernel takes it along with another (implicit). */
  const goes = new Map<string, { cause?: string; implicit: boolean }>();
  // Nothing goes unless something goes explicitly (e.g. verifying an apply).
  if (explicit.size) for (const id of liveById.keys()) {
    const by = impliedBy(id);
    if (by) goes.set(id, { cause: by, implicit: true });
    else if (explicit.has(id)) goes.set(id, { cause: explicit.get(id), implicit: false });
  }

  // ---- changes: removals in live order, then the desired objects in creation order ----
  const changes: Change[] = [];
  /** The change of each id (the last, should a hand-made state repeat an id): steps point at it. */
  const index = new Map<string, number>();
  const push = (c: Change) => {
    index.set(c.id, changes.length);
    changes.push(c);
  };
  /** A replaced object by its new name (an ingress hook that becomes clsact is called clsact). */
  let wantedById: Map<string, PlanObject> | undefined;
  const describe = (g: { cause?: string; implicit: boolean }) => {
    if (!g.cause) return undefined;
    const replaced = wantedIds.has(g.cause);
    const cause = replaced ? (wantedById ??= new Map(wanted.map((o) => [o.id, o]))).get(g.cause)! : liveById.get(g.cause)!;
    const what = replaced ? 'replaced' : 'removed';
    if (g.implicit) return `goes with ${address(cause)}, which is ${what}`;
    if (cause.kind === 'filter') return `goes with ${address(cause)}, which is ${what}: u32 frees its hash tables only with the last u32 filter of the qdisc`;
    return `must go before ${address(cause)} is ${what} (htb refuses to delete a class in use)`;
  };

  const depth = (o: LiveItem) => {
    let d = 0;
    if (o.kind !== 'class') return 0;
    for (let p = liveById.get(classId(o.dev, o.parent)); p && p.kind === 'class' && d < liveById.size; p = liveById.get(classId(p.dev, p.parent))) d++;
    return d;
  };
  const order = canonicalOrder(depth);
  // Sorting only what is removed gives the same order as sorting all (a stable sort).
  const removed = [...liveById.values()].filter((o) => goes.has(o.id) && !wantedIds.has(o.id)).sort(order);
  for (const o of removed) {
    const g = goes.get(o.id)!;
    push(change('delete', o, o, undefined, undefined, describe(g), g.cause, g.implicit));
  }
  for (const obj of wanted) {
    const id = obj.id;
    const v = verdicts.get(id)!;
    const g = goes.get(id);
    if (g) {
      // (only live objects go)
      const own = v.t === 'replace' ? v.reason : undefined;
      const fields = v.t === 'replace' || v.t === 'update' ? v.fields : undefined;
      push(change('replace', obj, liveById.get(id), obj, fields, own ?? describe(g), g.cause, g.implicit));
    } else if (v.t === 'create') push(change('create', obj, undefined, obj));
    else if (v.t === 'update') {
      push(change('update', obj, liveById.get(id), obj, v.fields, undefined, undefined, false, v.manual));
      if (v.manual) errors.push(`${address(obj)}: ${v.manual}`);
    } else if (v.t === 'replace') throw new Error(`internal: replace of ${id} without a live object`);
  }

  // ---- steps: removals (filters, classes children first, leaf qdiscs, roots and hooks, rules, chains, links), changes, creations ----
  const steps: Step[] = [];
  const add = (argvs: Argv[], change: number, phase: Phase) => {
    for (const a of argvs) steps.push({ tool: a.tool, argv: a.argv, change, phase });
  };
  const rank = (o: LiveItem) => {
    switch (o.kind) {
      case 'filter':
        return 0;
      case 'class':
        return 1;
      case 'qdisc':
        return o.parent === 'root' || o.parent === 'ingress' ? 3 : 2;
      case 'iptables':
        return 4;
      case 'chain':
        return 5;
      case 'link':
        return 6;
      default:
        return 7;
    }
  };
  const removals = [...goes].filter(([, g]) => !g.implicit).map(([id]) => liveById.get(id)!);
  removals.sort((a, b) => rank(a) - rank(b) || depth(b) - depth(a) || order(a, b));
  for (const o of removals) add(deleteSteps(o), index.get(o.id)!, 'delete');
  for (const obj of wanted) {
    const i = index.get(obj.id);
    if (i === undefined) continue;
    const c = changes[i]!;
    if (c.action === 'update' && !c.manual) add(updateSteps(obj, liveById.get(obj.id)!, c.fields ?? []), i, 'update');
  }
  for (const obj of wanted) {
    const i = index.get(obj.id);
    if (i === undefined) continue;
    const c = changes[i]!;
    if (c.action === 'create' || c.action === 'replace') add(createSteps(obj), i, 'create');
  }

  orderByDevice(steps, changes, scope);
  steps.splice(0, steps.length, ...makeBeforeBreak(steps, changes, liveIn, tableSteps));

  if (skippedSysfs.length) notes.push(`skipped where the directory is absent (module not loaded), as the boot script does: ${skippedSysfs.join(', ')}`);
  const summary: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const c of changes) summary[c.action]++;

  // The digest prints the whole live state canonically (~20 ms at 1 000 classes): it is
  // computed when first read (a saved plan, a drift check), not for a plan that is only
  // shown, applied at once, or used to verify an apply.
  let digest: string | undefined;
  return {
    format: 'qospolicy-plan',
    version: 1,
    mode,
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.base ? { base: opts.base } : {}),
    scope,
    get liveDigest() {
      return (digest ??= liveDigest(liveIn, scope));
    },
    desired,
    changes,
    steps,
    summary,
    errors,
    notes,
  };
}

/**
 * Steps device by device, so that a run cut short (killed, a power cut) leaves at most one
 * device mid-change and every other one either as it was or as planned: modules and new
 * devices first (a redirect needs its target), then each ifb/imq device's tree, then each
 * interface's (its redirects now find their trees), then the mangle chains, then devices
 * that go, then sysfs figures. Within a device the order stays removals, in-place changes,
 * creations. A stable sort: the order within a group is the one built above.
 */
function orderByDevice(steps: Step[], changes: Change[], scope: Scope): void {
  const own = new Set([...scope.links.map((l) => l.name), ...changes.flatMap((c) => (c.kind === 'link' && c.after?.kind === 'link' && c.after.type !== 'require' ? [c.after.name] : []))]);
  const group = (s: Step): [number, string] => {
    const o = (changes[s.change]!.after ?? changes[s.change]!.before)!;
    switch (o.kind) {
      case 'module':
        return [0, ''];
      case 'link':
        return s.phase === 'delete' ? [5, o.name] : [1, ''];
      case 'qdisc':
      case 'class':
      case 'filter':
        return [own.has(o.dev) ? 2 : 3, o.dev];
      case 'chain':
      case 'iptables':
        return [4, ''];
      default:
        return [6, ''];
    }
  };
  const keyed = steps.map((s, i) => ({ s, i, k: group(s) }));
  keyed.sort((a, b) => a.k[0] - b.k[0] || (a.k[1] < b.k[1] ? -1 : a.k[1] > b.k[1] ? 1 : 0) || a.i - b.i);
  keyed.forEach((x, i) => (steps[i] = x.s));
}

/**
 * An order of live objects that does not depend on how they were listed (the live reader
 * and a diff's assumed state list them differently): per device, the device, its root,
 * classes (parents first, then by classid), leaf qdiscs, filters (by parent and prio), the
 * hook and its filters; then chains, each followed by its rules; then the rest.
 */
function canonicalOrder(depth: (o: LiveItem) => number) {
  const id = (classid: string) => {
    const [maj, min] = classid.split(':');
    return parseInt(maj || '0', 16) * 0x10000 + parseInt(min || '0', 16);
  };
  const key = (o: LiveItem): Array<string | number> => {
    switch (o.kind) {
      case 'link':
        return [0, o.name, 0];
      case 'qdisc':
        if (o.parent === 'root') return [0, o.dev, 1];
        if (o.parent === 'ingress') return [0, o.dev, 5];
        return [0, o.dev, 3, id(o.parent)];
      case 'class':
        return [0, o.dev, 2, depth(o), id(o.classid)];
      case 'filter':
        return o.parent === 'ingress' || o.parent === 'egress' ? [0, o.dev, 6, o.parent, o.prio] : [0, o.dev, 4, id(o.parent), o.prio, o.id];
      case 'chain':
        return [1, o.family, o.chain, 0];
      case 'iptables':
        return [1, o.family, o.chain, 1, o.id];
      default:
        return [2, o.id];
    }
  };
  // Keys are computed once per object, not once per comparison.
  const keys = new Map<LiveItem, Array<string | number>>();
  const keyOf = (o: LiveItem) => {
    let k = keys.get(o);
    if (!k) keys.set(o, (k = key(o)));
    return k;
  };
  return (a: LiveItem, b: LiveItem) => {
    const x = keyOf(a);
    const y = keyOf(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const p = x[i];
      const q = y[i];
      if (p === q) continue;
      if (p === undefined) return -1;
      if (q === undefined) return 1;
      if (typeof p === 'number' && typeof q === 'number') return p - q;
      return String(p) < String(q) ? -1 : 1;
    }
    return 0;
  };
}

/** A change of object `o` with only the fields that are there (the JSON carries no undefined), always in this key order. */
function change(action: Action, o: PlanObject, before?: PlanObject, after?: PlanObject, fields?: FieldChange[], reason?: string, cause?: string, implicit?: boolean, manual?: string): Change {
  const c: Change = { action, id: o.id, kind: o.kind, address: address(o) };
  const origin = o.origin?.path;
  if (origin !== undefined) c.origin = origin;
  if (before !== undefined) c.before = before;
  if (after !== undefined) c.after = after;
  if (fields !== undefined) c.fields = fields;
  if (reason !== undefined) c.reason = reason;
  if (cause !== undefined) c.cause = cause;
  if (implicit) c.implicit = true;
  if (manual !== undefined) c.manual = manual;
  return c;
}
