// How a desired object compares with a live one: field by field, as canonical JSON, with
// what the kernel prints back (the readback) on the desired side.
import type { LiveObject } from '../state/live.js';
import type { FieldChange, PlanObject } from './kind.js';

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
  if (want.kind !== 'filter') return fieldsApart(want, live);
  const last = filterDiffs.get(want);
  if (last?.live === live) return last.fields.slice();
  const fields = fieldsApart(want, live);
  filterDiffs.set(want, { live, fields });
  return fields.slice();
}

// A filter pair's difference, kept: placing filters and judging them compare the same pair,
// and so does verifying an apply (the same listing read again gives the same objects,
// state/filters.ts); a hashed filter of 10 000 circuits is 20 000 nodes. Objects compared
// are never changed afterwards.
const filterDiffs = new WeakMap<PlanObject, { live: PlanObject; fields: FieldChange[] }>();

function fieldsApart(want: PlanObject, live: PlanObject): FieldChange[] {
  const out: FieldChange[] = [];
  const a = want as unknown as Record<string, unknown>;
  const b = live as unknown as Record<string, unknown>;
  const params = want.kind === 'qdisc' && live.kind === 'qdisc';
  // The desired object's fields, then those only the live one has.
  for (const k in a) {
    if (ignored(k)) continue;
    if (params && k === 'params') {
      out.push(...diffParams(want.params, live.params));
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
