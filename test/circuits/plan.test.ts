// Changing a subscriber list plans as small a change as the kernel allows: one circuit's
// rate changed is exactly one `~` (a `tc class change`, every other class keeps its
// counters); one circuit added creates its class and leaf and changes no other class.
import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync } from 'node:fs';
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

  it('one circuit added: its class and leaf qdisc are created, no other class or qdisc changes', () => {
    const dir = tempDir('qp-circ-c-');
    const pol = writeIsp(dir, N, { down: 'v0', up: 'v1' });
    appendFileSync(join(dir, 'subs.csv'), '99999,New one,dnew,router,,,100.127.0.5,2001:db8:ff:1::/64,1,1,100,20,\n');
    const plan = diffPolicies(before, state(pol));
    const shaping = plan.changes.filter((c) => c.kind !== 'filter');
    expect(shaping.map((c) => `${c.action} ${c.kind} ${c.origin}`).sort()).toEqual(['create class v0 egress › c99999 (circuit 99999: New one)', 'create class v1 egress › c99999 (circuit 99999: New one)', 'create qdisc v0 egress › c99999 (circuit 99999: New one)', 'create qdisc v1 egress › c99999 (circuit 99999: New one)']);
    // Known gap: the hashed run's filter of each family is planned anew as a whole (at a free
    // prio beside the old one against a live tree, docs/language.md), not as one node added
    // to its bucket — which the kernel allows (tc filter add … ht T:B: handle T:B:N; del by handle).
  }, 60_000);
});
