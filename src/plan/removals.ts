// Phase 2 of a plan: what goes. Live objects the policy lacks and those it replaces are
// removed by a command of their own; the kernel takes along what they contain (everything
// under a root qdisc, a hook's filters, a chain's rules); and some must go by a command of
// their own first (an htb class's children and the filters pointing at it; every u32
// filter sharing a qdisc's hash tables). Each kind says what it contains and needs.
import { kindOf, type Along, type LiveContext, type LiveIndex, type Verdict } from '../kinds/index.js';
import type { LiveItem, Scope } from '../state/index.js';

/** A live object that goes: by a command of its own, or (implicit) along with `cause`. */
export interface Goes {
  cause?: string;
  implicit: boolean;
  /** Why it goes because `cause` does, when not implicit (see Kind.prerequisites). */
  reason?: Along['reason'];
}

/**
 * `ownTables`: live filters whose hash tables are deleted by handle after them (hitless.ts);
 * such a filter, going by a command of its own, takes no other filter along.
 */
export function removals(liveById: Map<string, LiveItem>, wantedIds: Set<string>, verdicts: Map<string, Verdict>, scope: Scope, ownTables: ReadonlyMap<string, unknown> = new Map()): Map<string, Goes> {
  /** Live objects removed by a command of their own (value: the change that forced it, if another). */
  const explicit = new Map<string, Goes>();
  for (const [id, v] of verdicts) if (v.t === 'replace' && liveById.has(id)) explicit.set(id, { implicit: false });
  for (const o of liveById.values()) if (!wantedIds.has(o.id) && deletable(o, scope)) explicit.set(o.id, { implicit: false });
  // Nothing goes unless something goes explicitly (e.g. verifying an apply).
  if (explicit.size === 0) return new Map();
  const live = liveContext(liveById, scope);

  /** What contains each live object, found when first asked (a plan that removes nothing asks for none). */
  const containerOf = new Map<string, string[]>();
  const containers = (id: string) => {
    let c = containerOf.get(id);
    if (c === undefined) {
      const o = liveById.get(id)!;
      containerOf.set(id, (c = kindOf(o).containers?.(o, live) ?? []));
    }
    return c;
  };
  /**
   * Prerequisites are removed by a command of their own even when a container of theirs goes
   * too: a filter attached at a group class that points at one of its children must go
   * before the child, and the child before the group.
   */
  const forced = new Set<string>();
  const impliedBy = (id: string) => (forced.has(id) ? undefined : containers(id).find((c) => explicit.has(c)));
  const force = (along: Along, cause: string) => {
    let changed = false;
    for (const p of along.ids) {
      if (forced.has(p)) continue;
      forced.add(p);
      if (!explicit.has(p)) explicit.set(p, { cause, implicit: false, reason: along.reason });
      changed = true;
    }
    return changed;
  };
  /** Goes along with a qdisc (or device) that takes everything of it along. */
  const wholly = (id: string) => {
    const by = impliedBy(id);
    const c = by === undefined ? undefined : liveById.get(by)!;
    return c !== undefined && (kindOf(c).holdsAll?.(c) ?? false);
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of [...explicit.keys()]) {
      const o = liveById.get(id)!;
      const needs = kindOf(o).prerequisites;
      if (needs && !impliedBy(id)) changed = force(needs(o, live), id) || changed;
    }
    for (const o of liveById.values()) {
      const along = kindOf(o).companions;
      if (along && (explicit.has(o.id) || impliedBy(o.id)) && !wholly(o.id) && !(ownTables.has(o.id) && !impliedBy(o.id))) changed = force(along(o, live), o.id) || changed;
    }
  }
  /** Every live object that goes, and whether the kernel takes it along with another (implicit). */
  const goes = new Map<string, Goes>();
  for (const id of liveById.keys()) {
    const by = impliedBy(id);
    if (by) goes.set(id, { cause: by, implicit: true });
    else if (explicit.has(id)) goes.set(id, explicit.get(id)!);
  }
  return goes;
}

/** Whether a live object the policy lacks is removed: its kind removes such objects. */
function deletable(o: LiveItem, scope: Scope): boolean {
  const k = kindOf(o);
  return k.deletable ? k.deletable(o, scope) : k.remove !== undefined;
}

function liveContext(liveById: Map<string, LiveItem>, scope: Scope): LiveContext {
  /** Leaf qdiscs by "dev handle": a filter may hang off one. */
  const leaves = new Map<string, LiveItem>();
  /** Live classes and filters by the "dev classid" they hang under (classes) or point at (filters), in live order. */
  const users = new Map<string, string[]>();
  const use = (key: string, id: string) => {
    const l = users.get(key);
    if (!l) users.set(key, [id]);
    else if (l[l.length - 1] !== id) l.push(id); // a filter once, however many of its nodes point there
  };
  const index: LiveIndex = {
    leaf: (dev, handle, o) => void leaves.set(`${dev} ${handle}`, o as LiveItem),
    user: (dev, classid, id) => use(`${dev} ${classid}`, id),
  };
  for (const x of liveById.values()) kindOf(x).hangs?.(x, index);
  return {
    has: (id) => liveById.has(id),
    scope,
    leaf: (dev, handle) => leaves.get(`${dev} ${handle}`),
    users: (dev, classid) => users.get(`${dev} ${classid}`) ?? [],
    all: () => liveById.values(),
  };
}
