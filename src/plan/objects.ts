// The objects a plan compares, their short addresses, and field-by-field differences.
import type { DesiredState, IptablesRule, KernelObject } from '../model/types.js';
import { chainId, expectedReadback, type IptablesChain, type LiveObject } from '../state/index.js';
import type { FieldChange, PlanObject } from './types.js';

export interface Wanted {
  /** As compiled: what the commands send. */
  obj: PlanObject;
  /** As the live reader will show it once applied. */
  rb: PlanObject;
}

/**
 * The desired objects in creation order, each with its expected readback. qospolicy's
 * chains are objects of their own (created with their jump before their first rule).
 */
export function wantedObjects(desired: DesiredState): Wanted[] {
  const { objs, src } = wantedList(desired);
  const rb = readbackOf(desired.objects);
  const out: Wanted[] = new Array(objs.length);
  for (let i = 0; i < objs.length; i++) out[i] = { obj: objs[i]!, rb: src[i]! < 0 ? objs[i]! : rb[src[i]!]! };
  return out;
}

/**
 * The desired objects in creation order (as wantedObjects), without their readbacks:
 * `src[i]` is the index of `objs[i]` in desired.objects, or -1 for a chain (its own
 * readback). A plan needs a readback only for an object the live system has.
 */
export function wantedList(desired: DesiredState): { objs: PlanObject[]; src: number[] } {
  const objs: PlanObject[] = [];
  const src: number[] = [];
  let chains: Set<string> | undefined;
  const all = desired.objects;
  for (let i = 0; i < all.length; i++) {
    const o = all[i]!;
    if (o.kind === 'iptables') {
      const id = chainId(o.family, o.chain);
      if (!(chains ??= new Set()).has(id)) {
        chains.add(id);
        objs.push(chainOf(o));
        src.push(-1);
      }
    }
    objs.push(o);
    src.push(i);
  }
  return { objs, src };
}

/**
 * expectedReadback of a desired state's objects, computed once per objects array: apply
 * plans against the live system, runs the steps, then plans the same desired state
 * against the readback to verify it. A compiled desired state is never changed in place
 * (the length check only guards against an array grown after the fact).
 */
const readbacks = new WeakMap<KernelObject[], KernelObject[]>();
export function readbackOf(objects: KernelObject[]): KernelObject[] {
  let rb = readbacks.get(objects);
  if (rb === undefined || rb.length !== objects.length) {
    rb = expectedReadback(objects);
    readbacks.set(objects, rb);
  }
  return rb;
}

export function chainOf(r: IptablesRule): IptablesChain {
  return { kind: 'chain', id: chainId(r.family, r.chain), family: r.family, table: r.table, chain: r.chain, hook: r.hook, jumps: 1 };
}

const iptBin = (family: 4 | 6) => (family === 4 ? 'iptables' : 'ip6tables');

/** A short, unique-enough name for a kernel object, for people. */
export function address(o: PlanObject): string {
  switch (o.kind) {
    case 'qdisc':
      // The hook's qdisc by its kind: `ingress`, or `clsact` (which holds both hooks).
      if (o.parent === 'ingress') return `qdisc ${o.dev} ${o.qdisc === 'clsact' ? 'clsact' : 'ingress'}`;
      return `qdisc ${o.dev} ${o.parent === 'root' ? 'root' : `parent ${o.parent}`}`;
    case 'class':
      return `class ${o.dev} ${o.classid}`;
    case 'filter':
      return `filter ${o.dev} ${o.parent} prio ${o.prio}${o.id.includes('/chain') ? ` ${o.id.slice(o.id.lastIndexOf('/') + 1)}` : ''}`;
    case 'link':
      return `link ${o.name}`;
    case 'module':
      return `module ${o.module}`;
    case 'sysfs':
      return `sysfs ${o.path}`;
    case 'iptables':
      return `${iptBin(o.family)} -t ${o.table} -A ${o.chain} ${o.args.join(' ')}`;
    case 'chain':
      return `chain ${iptBin(o.family)} ${o.table} ${o.chain}`;
  }
}

/** Fields never compared: identity, provenance, and what the reader could not model (handled apart). */
const ignored = (k: string) => k === 'id' || k === 'origin' || k === 'unmodeled' || k === 'kind';

/**
 * Canonical JSON: object keys sorted, so equal values print equally. The same text as
 * JSON.stringify with sorted keys, written out directly: a replacer that rebuilds every
 * object cost most of a plan's time at 1 000 classes.
 */
export function canonical(v: unknown): string {
  return write(v) ?? 'undefined';
}

function write(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return `[${v.map((x) => write(x) ?? 'null').join(',')}]`;
      const o = v as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of sortedKeys(o)) {
        const x = write(o[k]);
        if (x !== undefined) parts.push(`${JSON.stringify(k)}:${x}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined; // undefined and functions are left out, as by JSON.stringify
  }
}

/** Keys in the order JSON.stringify prints a sorted copy: integer keys first, ascending (as JS orders them). */
function sortedKeys(o: Record<string, unknown>): string[] {
  const keys = Object.keys(o).sort();
  const index = (k: string) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
  if (!keys.some(index)) return keys;
  return [...keys.filter(index).sort((a, b) => Number(a) - Number(b)), ...keys.filter((k) => !index(k))];
}

/**
 * Equal as canonical JSON, without printing: fields absent and fields undefined are alike.
 * It runs for every field of every live object a plan compares, so it allocates nothing.
 * (Values are plain data — compiled, read, or parsed from JSON — so for-in lists exactly
 * their own keys, as Object.keys would.)
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const t = typeof a;
  if (t !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // Different strings or booleans never print alike; numbers do only as null (NaN, ±Infinity).
    if (t === typeof b) {
      if (t === 'string' || t === 'boolean') return false;
      if (t === 'number') return !Number.isFinite(a) && !Number.isFinite(b);
    }
    return canonical(a) === canonical(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i] ?? null, y[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined || typeof v === 'function') continue;
    if (!(k in y) || !sameValue(v, y[k])) return false;
    n++;
  }
  // Every printed field of x is in y alike: equal when y prints no more fields.
  for (const k in y) {
    const v = y[k];
    if (v !== undefined && typeof v !== 'function' && --n < 0) return false;
  }
  return n === 0;
}

/**
 * The fields in which `live` differs from the desired object's readback. Qdisc parameters
 * are compared one by one (`default`, `limit`; repeated keys such as taprio's sched-entry
 * together); every other field as a whole. Fields only one side has count as differences,
 * so a field added to the model later is compared without any change here.
 */
export function diffFields(want: PlanObject, live: PlanObject): FieldChange[] {
  const out: FieldChange[] = [];
  const a = want as unknown as Record<string, unknown>;
  const b = live as unknown as Record<string, unknown>;
  const params = want.kind === 'qdisc' && live.kind === 'qdisc';
  // The desired object's fields, then those only the live one has.
  for (const k in a) {
    if (ignored(k)) continue;
    if (params && k === 'params') {
      const ps = diffParams(want.params, live.params);
      for (let i = 0; i < ps.length; i++) out.push(ps[i]!);
      continue;
    }
    const x = a[k];
    const y = b[k];
    if (x !== y && !sameValue(x, y)) out.push({ field: k, before: y, after: x });
  }
  for (const k in b) {
    if (k in a || ignored(k)) continue;
    const y = b[k];
    if (y !== undefined && !sameValue(undefined, y)) out.push({ field: k, before: y, after: undefined });
  }
  const unmodeled = (live as LiveObject).unmodeled; // (unmodeledOf would allocate an empty array per object)
  if (unmodeled?.length) out.push({ field: 'unmodeled', before: unmodeled, after: undefined });
  return out;
}

function diffParams(want: Array<[string, string]>, live: Array<[string, string]>): FieldChange[] {
  if (sameValue(want, live)) return []; // (then every key's values are alike too)
  const group = (ps: Array<[string, string]>) => {
    const m = new Map<string, string[]>();
    for (const [k, v] of ps) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const a = group(want);
  const b = group(live);
  const out: FieldChange[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    if (sameValue(x, y)) continue;
    const one = (v: string[] | undefined) => (v === undefined ? undefined : v.length === 1 ? v[0] : v);
    out.push({ field: k, before: one(y), after: one(x) });
  }
  // Same values in a different order (e.g. sched-entry order) still differ.
  if (out.length === 0 && !sameValue(want, live)) out.push({ field: 'params', before: live, after: want });
  return out;
}
