// Link state, module parameters and sysfs values: the pure readers behind readLive.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseLinks, parseModule, parseSysfs } from '../../src/state/index.js';

const rec = (name: string) => readFileSync(new URL(`../fixtures/ip/${name}`, import.meta.url), 'utf8');

describe('parseLinks (ip -j -d link show, test/fixtures/ip/record.sh)', () => {
  const links = parseLinks(rec('links.json'));
  it('reads name, up flag, tx queues, gso_max_segs, gso_max_size, gro_max_size and driver; ifb devices typed ifb, others require', () => {
    expect(links.map((l) => [l.name, l.type, l.up, l.txQueues, l.driver])).toEqual([
      ['lo', 'require', false, 1, undefined],
      ['v1', 'require', false, 4, 'veth'],
      ['v0', 'require', true, 2, 'veth'],
      ['ifb0', 'ifb', false, 1, 'ifb'],
      ['ifb1', 'ifb', true, 1, 'ifb'],
    ]);
    expect(links[3]).toEqual({ kind: 'link', id: 'link/ifb0', name: 'ifb0', type: 'ifb', up: false, txQueues: 1, gsoMaxSegs: 65535, gsoMaxSize: 65536, groMaxSize: 65536, driver: 'ifb' });
  });
});

describe('parseModule (/sys/module/M/parameters)', () => {
  it('keeps decimal parameters, sorted; a missing module is undefined', () => {
    expect(parseModule('sch_tdma', { slot_ns: '8000000\n', frame_ns: '100000000\n', debug: 'N\n' })).toEqual({
      kind: 'module',
      id: 'module/sch_tdma',
      module: 'sch_tdma',
      params: { frame_ns: 100000000, slot_ns: 8000000 },
    });
    expect(parseModule('imq', {})).toEqual({ kind: 'module', id: 'module/imq', module: 'imq', params: {} });
    expect(parseModule('imq', undefined)).toBeUndefined();
  });
});

describe('parseSysfs', () => {
  it('value without the newline; an absent directory (module not loaded) is marked', () => {
    const p = '/sys/kernel/netqos/figures/bw/wan0';
    expect(parseSysfs(p, '20000\n', true)).toEqual({ kind: 'sysfs', id: `sysfs/${p}`, path: p, value: '20000' });
    expect(parseSysfs(p, undefined, false)).toEqual({ kind: 'sysfs', id: `sysfs/${p}`, path: p, value: '', absent: true });
    expect(parseSysfs(p, undefined, true)).toBeUndefined();
  });
});
