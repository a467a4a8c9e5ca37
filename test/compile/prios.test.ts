// Filter slots (backends/prios.ts): spread with gaps in a fresh tree; placed against live
// slots so that unchanged classes keep their prios and new or changed ones go between their
// neighbours, never onto a live prio, in the file's order. A hashed run takes one slot.
import { describe, expect, it } from 'vitest';
import type { Filter } from '../../src/model/types.js';
import { filterId } from '../../src/model/ids.js';
import { placeSlots, slotBase, slotsOf, spreadSlots, TOP_RANGE, type Slot } from '../../src/backends/prios.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from './pipeline.js';
import { tempDir } from '../support/tmp.js';
// @ts-expect-error: the bench's generator is plain JavaScript
import { writeIsp } from '../../bench/circuits.js';

const filter = (prio: number, flowid: string, port: number): Filter => ({
  kind: 'filter',
  id: filterId('ifb0', '1:', prio),
  dev: 'ifb0',
  parent: '1:',
  protocol: 'ip',
  prio,
  nodes: [{ keys: [{ off: 20, val: port, mask: 0xffff }], flowid }],
});
/** Slots for classes given as [flowid, port], at the units given. */
const slots = (classes: Array<[string, number]>, units: number[]): Slot[] =>
  slotsOf(classes.map(([id, port], i) => filter(slotBase(TOP_RANGE, units[i]!), id, port)), TOP_RANGE).sort((a, b) => a.unit - b.unit);
const equal = (a: Filter, b: Filter) => JSON.stringify(a) === JSON.stringify(b);
const units = (s: Slot[] | undefined) => s?.map((x) => x.unit);

describe('filter slots', () => {
  it('a fresh tree: 15 free slots between classes and before the first; consecutive when the range is full', () => {
    expect(spreadSlots(3, TOP_RANGE)).toEqual([16, 32, 48]);
    expect(spreadSlots(1000, TOP_RANGE).slice(0, 3)).toEqual([10, 20, 30]); // 10 922 slots / 1 001
    expect(spreadSlots(TOP_RANGE.units, TOP_RANGE).slice(-1)).toEqual([TOP_RANGE.units - 1]);
  });

  it('unchanged classes keep their live slots whatever the compiled ones; an inserted class goes between its neighbours', () => {
    const live = slots([['1:a', 1], ['1:b', 2]], [16, 32]);
    // compiled afresh with a class before them: a at 32, b at 48, new at 16 — all differ from the live ones
    const want = slots([['1:n', 9], ['1:a', 1], ['1:b', 2]], [16, 32, 48]);
    const placed = placeSlots(want, live, TOP_RANGE, new Set(), equal);
    expect(units(placed)).toEqual([8, 16, 32]);
    expect(placed![1]!.filters[0]!.id).toBe(live[0]!.filters[0]!.id);
  });

  it('a changed class moves to a free slot beside its old one (never onto a live prio); a removed one leaves its slot', () => {
    const live = slots([['1:a', 1], ['1:b', 2], ['1:c', 3]], [16, 32, 48]);
    const want = slots([['1:a', 1], ['1:b', 22], ['1:c', 3]], [16, 32, 48]);
    expect(units(placeSlots(want, live, TOP_RANGE, new Set(), equal))).toEqual([16, 33, 48]); // the middle of the free slots between a and c (32 is still b's)
    const fewer = slots([['1:a', 1], ['1:c', 3]], [16, 32]);
    expect(units(placeSlots(fewer, live, TOP_RANGE, new Set(), equal))).toEqual([16, 48]);
  });

  it('order wins over keeping: two classes swapped keep the longer rising run, the other moves', () => {
    const live = slots([['1:a', 1], ['1:b', 2], ['1:c', 3]], [16, 32, 48]);
    const want = slots([['1:c', 3], ['1:a', 1], ['1:b', 2]], [16, 32, 48]);
    const placed = units(placeSlots(want, live, TOP_RANGE, new Set(), equal))!;
    expect(placed.slice(1)).toEqual([16, 32]);
    expect(placed[0]).toBeLessThan(16);
  });

  it('no free slot between neighbours: undefined (the caller keeps the compiled prios)', () => {
    const live = slots([['1:a', 1], ['1:b', 2]], [16, 17]);
    const want = slots([['1:a', 1], ['1:n', 9], ['1:b', 2]], [16, 32, 48]);
    expect(placeSlots(want, live, TOP_RANGE, new Set(), equal)).toBeUndefined();
  });
});

describe('a hashed run in the slots', () => {
  it('12 000 circuits between two classes take one slot (one prio per family), in the file order', () => {
    const dir = tempDir('qp-prios-run-');
    writeIsp(dir, 12_000, { down: 'v0', sites: false, leaf: 'bfifo' });
    const pol = join(dir, 'run.pol');
    const text = 'interface v0 {\n  egress rate 100gbit {\n    class voice rate 1mbit ceil 10mbit { match udp dport 5060 }\n    circuits "subs.csv" down\n    class web rate 1mbit ceil 10mbit { match tcp dport 80, 443 src 192.0.2.0/24 }\n    class rest rate 10mbit ceil 1gbit default\n  }\n}\n';
    writeFileSync(pol, text);
    const r = compileSource(pol, text);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const filters = r.state!.objects.filter((o): o is Filter => o.kind === 'filter' && o.parent === '1:');
    const prios = (f: (x: Filter) => boolean) => [...new Set(filters.filter(f).map((x) => x.prio))].sort((a, b) => a - b);
    const voice = prios((x) => x.origin!.path.endsWith('› voice'));
    const run = prios((x) => x.origin!.path.includes('(by prefix)'));
    const web = prios((x) => x.origin!.path.endsWith('› web'));
    expect(run).toHaveLength(2); // IPv4 and IPv6, of one slot
    expect(Math.floor((run[0]! - 1) / 3)).toBe(Math.floor((run[1]! - 1) / 3));
    expect(Math.max(...voice)).toBeLessThan(run[0]!);
    expect(Math.max(...run)).toBeLessThan(Math.min(...web));
    // Three slots, spread: room before, between and after them.
    expect(units(slotsOf(filters, TOP_RANGE))).toEqual([16, 32, 48]);
  }, 60_000);
});
