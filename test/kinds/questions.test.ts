// What the planner, the renderers and the planning stage ask of a kind instead of testing
// kinds themselves (src/kinds/kind.ts: device, carries, target, shapes, assumed, hangs).
import { describe, expect, it } from 'vitest';
import { compileSource } from '../compile/pipeline.js';
import { deviceOf, kindOf, shapesAny, type LiveIndex } from '../../src/kinds/index.js';
import { devicesOf } from '../../src/apply/system.js';
import { targetLabel } from '../../src/render/commands.js';
import { removesAllShaping } from '../../src/plan/guard.js';
import { assumedLive } from '../../src/plan/assumed.js';
import { makePlan } from '../../src/plan/index.js';

const POLICY = `interface eth0 {
  egress rate 10mbit {
    class voice rate 1mbit prio 0 { match udp dport 5060 }
    class rest rate 5mbit default
  }
  ingress rate 8mbit {
    class rest rate 8mbit default
  }
}
`;
const state = () => {
  const r = compileSource('q.pol', POLICY);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.state!;
};

describe('questions asked of the kind', () => {
  it('the devices a policy is on: its interface and the ifb it creates, not what its rules only name', () => {
    const s = state();
    expect([...devicesOf(s)].sort()).toEqual(['eth0', 'ifb0']);
    for (const o of s.objects) if (o.kind === 'module' || o.kind === 'sysfs' || o.kind === 'iptables') expect(deviceOf(o)).toBeUndefined();
  });

  it("a header names the target choices the objects stand for; a policy of no qdisc shapes nothing", () => {
    const s = state();
    expect(targetLabel(s)).toBe('ingress ifb');
    expect(shapesAny(s.objects)).toBe(true);
    const empty = { objects: s.objects.filter((o) => o.kind === 'link'), notes: [] };
    expect(shapesAny(empty.objects)).toBe(false);
    expect(removesAllShaping(makePlan(empty, [], { devices: [], roots: [], hooks: [], links: [], chains: [], modules: [], sysfs: [] }, { mode: 'diff' }))).toMatch(/declares no interface tree/);
  });

  it('what a root qdisc and a filter carry, in words', () => {
    const s = state();
    const root = s.objects.find((o) => o.kind === 'qdisc' && o.parent === 'root' && o.dev === 'eth0')!;
    expect(kindOf(root).carries?.(root)).toEqual({ text: 'htb 1:', root: true });
    const f = s.objects.find((o) => o.kind === 'filter' && o.dev === 'eth0')!;
    expect(kindOf(f).carries?.(f)).toEqual({ text: 'a 1: filter', root: undefined });
  });

  it('where live objects hang: a class under its parent, a filter at the classes it sends to', () => {
    const s = state();
    const users: string[] = [];
    const leaves: string[] = [];
    const index: LiveIndex = { leaf: (dev, handle) => void leaves.push(`${dev} ${handle}`), user: (dev, classid, id) => void users.push(`${dev} ${classid} ← ${id}`) };
    for (const o of s.objects) kindOf(o).hangs?.(o, index);
    expect(users).toContain('eth0 1:1 ← ' + s.objects.find((o) => o.kind === 'class' && o.dev === 'eth0' && o.parent === '1:1')!.id);
    expect(users.some((u) => u.startsWith('eth0 ') && u.includes('filter'))).toBe(true);
    expect(leaves.length).toBeGreaterThan(0);
  });

  it('a link applied is assumed present and up', () => {
    const live = assumedLive(state());
    expect(live.find((o) => o.kind === 'link' && o.name === 'ifb0')).toMatchObject({ up: true, txQueues: 1, driver: 'ifb' });
  });
});
