// canonical() and sameValue() decide what a plan calls different and what the live digest
// covers: they must agree with JSON.stringify over a sorted copy, for any JSON-like value.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzz, fuzzTimeout } from '../support/fuzz.js';
import { canonical, diffFields, sameValue } from '../../src/plan/objects.js';
import type { FieldChange, PlanObject } from '../../src/plan/types.js';

/** The reference: JSON.stringify with every object's keys sorted. */
const sortedJson = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );

// Values as the live reader and the compiler make them: objects, arrays, strings, numbers,
// booleans, null, and fields left undefined; keys include integer-like ones ("10", "9").
const key = fc.oneof(fc.string({ maxLength: 4 }), fc.nat(20).map(String));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
}));

describe('canonical', () => {
  it('prints what JSON.stringify prints for a sorted copy', async () => {
    await fuzz(fc.property(value, (v) => canonical(v) === (sortedJson(v) ?? 'undefined')), { runs: 2000 });
  }, fuzzTimeout(60_000));

  it('ignores key order', () => {
    expect(canonical({ b: 1, a: [{ y: 2, x: 1 }] })).toBe('{"a":[{"x":1,"y":2}],"b":1}');
  });
});

describe('sameValue', () => {
  it('is equality of canonical prints', async () => {
    await fuzz(
      fc.property(value, value, (a, b) => sameValue(a, b) === (canonical(a) === canonical(b))), { runs: 2000 }
    );
    // Pairs that are equal in print but not identical.
    const reparsed = (a: unknown) => JSON.parse(JSON.stringify(a ?? null)) as unknown;
    await fuzz(fc.property(value, (a) => sameValue(a ?? null, reparsed(a)) === (canonical(a ?? null) === canonical(reparsed(a)))));
  }, fuzzTimeout(60_000));

  it('treats an absent field and an undefined one alike, and a different value as different', () => {
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue([1, undefined], [1, null])).toBe(true);
    expect(sameValue({ a: [1, { x: 2 }] }, { a: [1, { x: 3 }] })).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });
});

/** The reference diffFields: every key of either object, compared as canonical prints. */
function diffReference(want: Record<string, unknown>, live: Record<string, unknown>): FieldChange[] {
  const keys = Object.keys(want);
  for (const k of Object.keys(live)) if (!(k in want)) keys.push(k);
  const out: FieldChange[] = [];
  for (const k of keys) {
    if (['id', 'origin', 'unmodeled', 'kind'].includes(k)) continue;
    if (canonical(want[k]) !== canonical(live[k])) out.push({ field: k, before: live[k], after: want[k] });
  }
  const unmodeled = live.unmodeled as unknown[] | undefined;
  if (unmodeled?.length) out.push({ field: 'unmodeled', before: unmodeled, after: undefined });
  return out;
}

describe('diffFields', () => {
  // Class-like objects (qdisc params are compared apart): shared fields, fields only one side
  // has, fields left undefined, ignored ones, unmodeled details.
  const field = fc.constantFrom('dev', 'rate', 'ceil', 'prio', 'nodes', 'extra', 'origin', 'unmodeled', 'id');
  const obj = fc.dictionary(field, value, { maxKeys: 7 }).map((o): Record<string, unknown> => ({ ...o, kind: 'class' }));
  it('reports exactly the fields whose prints differ, in the desired object’s key order, then the live one’s', async () => {
    await fuzz(
      fc.property(obj, obj, (a, b) => {
        if (b.unmodeled !== undefined && !Array.isArray(b.unmodeled)) delete b.unmodeled;
        expect(diffFields(a as unknown as PlanObject, b as unknown as PlanObject)).toEqual(diffReference(a, b));
      }), { runs: 3000 }
    );
  }, fuzzTimeout(60_000));
});
