// A filter's tc -batch lines (Kind.tcLines) are its commands without the tool, joined by
// spaces: the fast line of a hashed run's node and the general one say the same.
import { describe, expect, it } from 'vitest';
import type { Filter, U32Node } from '../../src/model/types.js';
import { filter } from '../../src/kinds/filter.js';

const key = (off: number, val: number, mask: number) => ({ off, val, mask });
const nodes: U32Node[] = [
  { ht: '3a:1f:', keys: [key(16, 0x6440269b, 0xffffffff)], flowid: '1:e33e' },
  { ht: '3a:0:', keys: [key(24, 0x20010db8, 0xffffffff)], flowid: '1:a' },
  { ht: '3a:1f:', keys: [key(16, 0x6440269b, 0xffffff00)], flowid: '1:e33e' },
  { ht: '3a:1f:', node: 0x801, keys: [key(16, 0x6440269b, 0xffffffff)], flowid: '1:2' },
  { ht: '3a:1f:', keys: [key(24, 0x20010db8, 0xffffffff), key(28, 0x12, 0xffffffff)], flowid: '1:3' },
  { keys: [key(16, 0x0a000000, 0xff000000)], flowid: '1:4' },
  { ht: '3a:2:', keys: [key(0, 0, 0)], hashkey: { mask: 0xff00, at: 16 }, link: '4b:' },
  { ht: '3a:2:', keys: [key(16, 1, 0xffffffff)], mark: { val: 5, mask: 0xff }, flowid: '1:5' },
  { ht: '3a:2:', keys: [key(16, 1, 0xffffffff)], flowid: '1:6', connmark: true },
  { ht: '3a:2:', keys: [key(16, 1, 0xffffffff)], action: { kind: 'mirred', dev: 'ifb0' } },
  { ht: '3a:2:', keys: [key(16, 1, 0xffffffff)], flowid: '' },
  { keys: [], flowid: '1:7' },
];

describe('filter tc lines', () => {
  it('are the filter commands without the tool, node by node, whatever the node', () => {
    const f: Filter = { kind: 'filter', id: 'filter/v0/1:/49', dev: 'v0', parent: '1:', protocol: 'ip', prio: 49, tables: [{ handle: '3a:', divisor: 256 }], nodes };
    const lines: string[] = [];
    filter.tcLines!(f, (l) => lines.push(l));
    expect(lines).toEqual(filter.commands(f).map((argv) => argv.slice(1).join(' ')));
    expect(lines[1]).toBe('filter add dev v0 parent 1: protocol ip prio 49 u32 ht 3a:1f: match u32 0x6440269b 0xffffffff at 16 flowid 1:e33e');
  });
});
