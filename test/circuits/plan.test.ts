// Changing a subscriber list plans as small a change as the kernel allows: one circuit's
// rate changed is exactly one `~` (a `tc class change`, every other class keeps its
// counters); one circuit added creates its class, its leaf and its bucket nodes (one per
// family and direction), and removing one deletes exactly those; no other object changes.
import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { diffPolicies } from '../../src/plan/index.js';
import { tempDir } from '../support/tmp.js';
// @ts-expect-error: the bench's generator is plain JavaScript
import { writeIsp } from '../../bench/circuits.js';

const N = 2000;
const state = (pol: string) => {
  const r = compileSource(pol, readFileSync(pol, 'utf8'));
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.state;
};

describe('plans of a changed circuits list', () => {
  const before = state(writeIsp(tempDir('qp-circ-a-'), N, { down: 'v0', up: 'v1' }));

  it("one circuit's rate changed: exactly one update (~), a tc class change of its class", () => {
    const after = state(writeIsp(tempDir('qp-circ-b-'), N, { down: 'v0', up: 'v1', rates: { 1234: 150 } }));
    const plan = diffPolicies(before, after);
    expect(plan.changes.map((c) => `${c.action} ${c.address}`)).toEqual([expect.stringMatching(/^update class v0 1:[0-9a-f]+$/)]);
    expect(plan.changes[0]!.origin).toBe('v0 egress › c2234 (circuit 2234: Subscriber 1234, plan B)');
    expect(plan.steps.map((s) => s.argv.slice(0, 3).join(' '))).toEqual(['tc class change']);
  }, 60_000);

  /** The plan's changes and steps in short: `create node v0 …` / the commands' first words. */
  const shortly = (plan: ReturnType<typeof diffPolicies>) => plan.changes.map((c) => `${c.action} ${c.kind} ${c.kind === 'node' ? `${c.address.split(' ')[1]} ${(c.after ?? c.before)!.kind === 'node' && ((c.after ?? c.before) as { protocol: string }).protocol}` : c.origin}`).sort();

  it('one circuit added: exactly its class, its leaf qdisc and one bucket node per family and direction are created', () => {
    const dir = tempDir('qp-circ-c-');
    const pol = writeIsp(dir, N, { down: 'v0', up: 'v1' });
    appendFileSync(join(dir, 'subs.csv'), '99999,New one,dnew,router,,,100.127.0.5,2001:db8:ff:1::/64,1,1,100,20,\n');
    const plan = diffPolicies(before, state(pol));
    const who = 'v0 egress › c99999 (circuit 99999: New one)';
    expect(shortly(plan)).toEqual([
      `create class ${who}`,
      `create class ${who.replace('v0', 'v1')}`,
      'create node v0 ip',
      'create node v0 ipv6',
      'create node v1 ip',
      'create node v1 ipv6',
      `create qdisc ${who}`,
      `create qdisc ${who.replace('v0', 'v1')}`,
    ]);
    // Each node is one `tc filter add … handle T:B:N u32 ht T:B: …` into the live run, after its class.
    const nodeSteps = plan.steps.filter((s) => plan.changes[s.change]!.kind === 'node');
    expect(nodeSteps).toHaveLength(4);
    for (const s of nodeSteps) expect(s.argv.join(' ')).toMatch(/^tc filter add dev v[01] parent 1: protocol ipv?6? prio \d+ handle ([0-9a-f]+:[0-9a-f]+:)([0-9a-f]+) u32 ht \1 match .* flowid 1:[0-9a-f]+$/);
    const classStep = plan.steps.findIndex((s) => plan.changes[s.change]!.kind === 'class' && s.argv.includes('v0'));
    expect(plan.steps.findIndex((s) => plan.changes[s.change]!.kind === 'node' && s.argv.includes('v0'))).toBeGreaterThan(classStep);
    // …and matches the new circuit's address: 100.127.0.5 as a destination (down, at 16) and a source (up, at 12).
    expect(nodeSteps.map((s) => s.argv.slice(s.argv.indexOf('match')).join(' ')).filter((m) => m.includes('0x647f0005'))).toEqual([
      'match u32 0x647f0005 0xffffffff at 16 flowid ' + nodeSteps[0]!.argv.at(-1),
      'match u32 0x647f0005 0xffffffff at 12 flowid ' + nodeSteps.find((s) => s.argv.includes('v1') && s.argv.includes('ip'))!.argv.at(-1),
    ]);
  }, 60_000);

  it("one circuit re-pointed to another IPv4 address: its old node deleted and its new one added in each direction, nothing else", () => {
    const dir = tempDir('qp-circ-e-');
    const pol = writeIsp(dir, N, { down: 'v0', up: 'v1' });
    const csv = readFileSync(join(dir, 'subs.csv'), 'utf8');
    writeFileSync(join(dir, 'subs.csv'), csv.replace(/^(1777,.*?,)100\.64\.3\.10,/m, '$1100.126.7.7,'));
    const plan = diffPolicies(before, state(pol));
    expect(shortly(plan)).toEqual(['create node v0 ip', 'create node v1 ip', 'delete node v0 ip', 'delete node v1 ip']);
    // On each device the new node goes in before the old one goes (make before break).
    for (const dev of ['v0', 'v1']) expect(plan.steps.filter((s) => s.argv.includes(dev)).map((s) => s.argv[2])).toEqual(['add', 'del']);
  }, 60_000);

  it('one circuit removed: exactly its bucket nodes, its leaf qdisc and its class are deleted, nodes before the class', () => {
    const dir = tempDir('qp-circ-d-');
    const pol = writeIsp(dir, N, { down: 'v0', up: 'v1' });
    const lines = readFileSync(join(dir, 'subs.csv'), 'utf8').split('\n');
    writeFileSync(join(dir, 'subs.csv'), lines.filter((l) => !l.startsWith('1777,')).join('\n'));
    const plan = diffPolicies(before, state(pol));
    const who = 'v0 egress › c1777 (circuit 1777: Subscriber 777, plan B)';
    expect(shortly(plan)).toEqual([
      `delete class ${who}`,
      `delete class ${who.replace('v0', 'v1')}`,
      'delete node v0 ip',
      'delete node v0 ipv6',
      'delete node v1 ip',
      'delete node v1 ipv6',
      `delete qdisc ${who}`,
      `delete qdisc ${who.replace('v0', 'v1')}`,
    ]);
    const kinds = plan.steps.filter((s) => s.argv.includes('v0')).map((s) => `${s.argv.slice(1, 3).join(' ')} ${plan.changes[s.change]!.kind}`);
    expect(kinds).toEqual(['filter del node', 'filter del node', 'class del class']);
    expect(plan.steps.find((s) => plan.changes[s.change]!.kind === 'node')!.argv.join(' ')).toMatch(/^tc filter del dev v[01] parent 1: protocol ipv?6? prio \d+ handle [0-9a-f]+:[0-9a-f]+:[0-9a-f]+ u32$/);
  }, 60_000);
});
