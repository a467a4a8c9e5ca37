// Phase 3 of a plan: the changes, removals first (in an order that does not depend on how
// the live system listed them), then the desired objects' changes in creation order.
import type { Verdict } from '../kinds/index.js';
import type { LiveItem } from '../state/index.js';
import { address, type Wanted } from './objects.js';
import type { Goes } from './removals.js';
import type { Action, Change, PlanObject } from './types.js';

/** What a change carries besides its action and object (each only when there is one). */
type ChangeParts = Partial<Pick<Change, 'before' | 'after' | 'fields' | 'reason' | 'cause' | 'implicit' | 'manual'>>;

/** A change of object `o` with only the fields that are there (the JSON carries no undefined), always in this key order. */
export function change(action: Action, o: PlanObject, parts: ChangeParts = {}): Change {
  const c: Change = { action, id: o.id, kind: o.kind, address: address(o) };
  if (o.origin?.path !== undefined) c.origin = o.origin.path;
  if (parts.before !== undefined) c.before = parts.before;
  if (parts.after !== undefined) c.after = parts.after;
  if (parts.fields !== undefined) c.fields = parts.fields;
  if (parts.reason !== undefined) c.reason = parts.reason;
  if (parts.cause !== undefined) c.cause = parts.cause;
  if (parts.implicit) c.implicit = true;
  if (parts.manual !== undefined) c.manual = parts.manual;
  return c;
}

export interface ChangeInput {
  wanted: Wanted[];
  liveById: Map<string, LiveItem>;
  verdicts: Map<string, Verdict>;
  goes: Map<string, Goes>;
  /** The order of removals (see order.ts). */
  order: (a: LiveItem, b: LiveItem) => number;
}

export function changesOf({ wanted, liveById, verdicts, goes, order }: ChangeInput): Change[] {
  // Needed only for what goes (a plan that removes nothing, as most do, builds none of it).
  let byId: Map<string, PlanObject> | undefined;
  const wantedById = () => (byId ??= new Map(wanted.map((w) => [w.obj.id, w.obj])));
  /** Why an object goes because another one does (a replaced object by its new name: an ingress hook that becomes clsact is called clsact). */
  const describe = (g: Goes) => {
    if (!g.cause) return undefined;
    const replaced = wantedById().has(g.cause);
    const cause = replaced ? wantedById().get(g.cause)! : liveById.get(g.cause)!;
    const what = replaced ? 'replaced' : 'removed';
    if (g.implicit) return `goes with ${address(cause)}, which is ${what}`;
    return g.reason!(address(cause), what);
  };
  const changes: Change[] = [];
  // Sorting only what is removed gives the same order as sorting all (a stable sort).
  const removed = goes.size === 0 ? [] : [...liveById.values()].filter((o) => goes.has(o.id) && !wantedById().has(o.id)).sort(order);
  for (const o of removed) {
    const g = goes.get(o.id)!;
    changes.push(change('delete', o, { before: o, reason: describe(g), cause: g.cause, implicit: g.implicit }));
  }
  for (const { obj } of wanted) {
    const v = verdicts.get(obj.id)!;
    const g = goes.size === 0 ? undefined : goes.get(obj.id);
    if (!g && v.t === 'same') continue;
    const before = liveById.get(obj.id);
    if (g) {
      // (only live objects go)
      const fields = v.t === 'replace' || v.t === 'update' ? v.fields : undefined;
      changes.push(change('replace', obj, { before, after: obj, fields, reason: v.t === 'replace' ? v.reason : describe(g), cause: g.cause, implicit: g.implicit }));
    } else if (v.t === 'create') changes.push(change('create', obj, { after: obj }));
    else if (v.t === 'update') changes.push(change('update', obj, { before, after: obj, fields: v.fields, manual: v.manual }));
    else if (v.t === 'replace') throw new Error(`internal: replace of ${obj.id} without a live object`);
  }
  return changes;
}
