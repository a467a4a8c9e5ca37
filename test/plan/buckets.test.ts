// A hashed filter placed onto its live copy node by node (src/plan/buckets.ts): kept nodes
// keep their ids, new ones take free ids that keep the desired order among nodes that can
// match one packet differently (the kernel tries a bucket's nodes in ascending id), and
// where no id keeps that order the filter is not changed in place.
import { describe, expect, it } from 'vitest';
import { adoptNodes } from '../../src/plan/buckets.js';
import type { Filter, U32Node } from '../../src/model/types.js';

const ip = (a: string) => a.split('.').reduce((x, o) => ((x << 8) | Number(o)) >>> 0, 0);
/** A /len destination in bucket B of table T. */
const node = (table: string, prefix: string, flowid: string, id?: number): U32Node => {
  const [a, len] = prefix.split('/');
  const mask = Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0;
  return { ht: `${table}:0:`, keys: [{ off: 16, val: (ip(a!) & mask) >>> 0, mask }], flowid, ...(id === undefined ? {} : { node: id }) };
};
const filter = (table: string, prio: number, nodes: U32Node[]): Filter => ({
  kind: 'filter',
  id: `filter/v0/1:/${prio}`,
  dev: 'v0',
  parent: '1:',
  protocol: 'ip',
  prio,
  tables: [{ handle: `${table}:`, divisor: 256 }],
  nodes: [{ keys: [{ off: 0, val: 0, mask: 0 }], hashkey: { mask: 0xff, at: 16 }, link: `${table}:` }, ...nodes],
});
const ids = (f: Filter | undefined) => f?.nodes.filter((n) => n.ht).map((n) => `${n.flowid} ${n.node!.toString(16)}`);

describe('adoptNodes', () => {
  const live = filter('5', 40, [node('5', '10.0.0.0/8', '1:a', 0x800), node('5', '10.1.0.0/16', '1:c', 0x801)]);

  it('keeps the live prio, table and ids; a new node that overlaps none goes after the others', () => {
    const want = filter('9', 7, [node('9', '10.0.0.0/8', '1:a'), node('9', '10.1.0.0/16', '1:c'), node('9', '11.0.0.0/8', '1:d')]);
    const f = adoptNodes(want, live)!;
    expect([f.prio, f.tables, f.nodes[0]!.link]).toEqual([40, [{ handle: '5:', divisor: 256 }], '5:']);
    expect(ids(f)).toEqual(['1:a 800', '1:c 801', '1:d 802']);
  });

  it('a new node that must be tried before a live one it overlaps gets a lower id', () => {
    const want = filter('9', 7, [node('9', '10.0.0.1/32', '1:b'), node('9', '10.0.0.0/8', '1:a'), node('9', '10.1.0.0/16', '1:c')]);
    expect(ids(adoptNodes(want, live))).toEqual(['1:b 1', '1:a 800', '1:c 801']);
  });

  it('no free id between two live nodes it must sit between: not in place', () => {
    // 10.1.2.0/24 is inside 10.0.0.0/8's and 10.1.0.0/16's matches, desired between them: no id between 800 and 801.
    const want = filter('9', 7, [node('9', '10.0.0.0/8', '1:a'), node('9', '10.1.2.0/24', '1:b'), node('9', '10.1.0.0/16', '1:c')]);
    expect(adoptNodes(want, live)).toBeUndefined();
  });

  it('live nodes in an order the policy no longer has (overlapping, to other classes): not in place', () => {
    const want = filter('9', 7, [node('9', '10.1.0.0/16', '1:c'), node('9', '10.0.0.0/8', '1:a')]);
    expect(adoptNodes(want, live)).toBeUndefined();
  });

  it('a node gone and one with new ids only: the kept ones keep theirs', () => {
    const want = filter('9', 7, [node('9', '10.1.0.0/16', '1:c')]);
    expect(ids(adoptNodes(want, live))).toEqual(['1:c 801']);
  });

  it('other tables or links: not in place', () => {
    const want = { ...filter('9', 7, [node('9', '10.0.0.0/8', '1:a')]), tables: [{ handle: '9:', divisor: 16 }] };
    expect(adoptNodes(want, live)).toBeUndefined();
    const other = filter('9', 7, [node('9', '10.0.0.0/8', '1:a')]);
    other.nodes[0] = { ...other.nodes[0]!, hashkey: { mask: 0xff00, at: 16 } };
    expect(adoptNodes(other, live)).toBeUndefined();
  });
});
