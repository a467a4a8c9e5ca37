// A plan shows a field change only when the commands it runs change something (issue 19).
// Every `~` of every golden diff is checked against the commands themselves: the old policy's
// command line and the new one's must differ in the argument of each field listed. The
// cburst case (one size sent at two rates reads back as two sizes) as a regression test, on
// the kernel too.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSource } from '../compile/pipeline.js';
import { createArgvs } from '../../src/render/commands.js';
import { makePlan, scopeFor, type Plan } from '../../src/plan/index.js';
import { assumedLive } from '../../src/plan/assumed.js';
import type { DesiredState, KernelObject } from '../../src/model/types.js';
import { requireKernelTools, withNetns } from '../support/netns.js';
import { cli } from '../apply/helpers.js';
import { tempDir } from '../support/tmp.js';

const CASES = 'test/plan/cases';
const cases = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

const compiled = (file: string): DesiredState => {
  const r = compileSource(file, readFileSync(file, 'utf8'));
  if (!r.state) throw new Error(`${file} does not compile`);
  return r.state;
};

/** The argument a field sends: the word after its keyword on the object's command line, or its value as data. */
function sent(o: KernelObject, field: string): string {
  if (o.kind === 'class' || o.kind === 'qdisc') {
    const argv = createArgvs(o)[0]!;
    const i = argv.indexOf(field);
    if (i < 0) throw new Error(`${o.id}: no '${field}' on ${argv.join(' ')}`);
    return argv[i + 1]!;
  }
  if (o.kind === 'module') return String(o.params[field]);
  return JSON.stringify((o as unknown as Record<string, unknown>)[field]);
}

describe('every ~ of every golden plan changes its command line', () => {
  const updates = cases.flatMap((name) => {
    const plan = JSON.parse(readFileSync(`${CASES}/${name}/diff.json`, 'utf8')) as Plan;
    return plan.changes.flatMap((c, i) => (c.action === 'update' ? [{ name, plan, c, i }] : []));
  });

  it('the goldens have ~ changes to check', () => expect(updates.length).toBeGreaterThanOrEqual(5));

  it.each(updates.map((u) => [`${u.name}: ${u.c.address}`, u] as const))('%s', (_, { name, plan, c, i }) => {
    const before = compiled(`${CASES}/${name}/old.pol`).objects.find((o) => o.id === c.id)!;
    const after = compiled(`${CASES}/${name}/new.pol`).objects.find((o) => o.id === c.id)!;
    expect(plan.steps.filter((s) => s.change === i).length).toBeGreaterThan(0);
    for (const f of c.fields ?? []) expect(sent(after, f.field), `${f.field}: the same on both command lines`).not.toBe(sent(before, f.field));
  });
});

describe('burst and cburst: a change of the size sent, not of its reading at another rate', () => {
  const policy = (ceil: string, rate = '4mbit') => `interface wan0 {\n  egress rate 90mbit {\n    class voice rate ${rate} ceil ${ceil} prio 0 { match udp dport 5060 }\n    class rest rate 10mbit ceil 90mbit default\n  }\n}\n`;
  const diff = (a: string, b: string) => {
    const old = compileSource('old.pol', a).state!;
    const neu = compileSource('new.pol', b).state!;
    return makePlan(neu, assumedLive(old, []), scopeFor(neu), { mode: 'diff' });
  };
  const voice = (p: Plan) => p.changes.find((c) => c.origin === 'wan0 egress › voice')!;

  it('ceil 10mbit → 30mbit sends cburst 67136b both times: the plan lists ceil only (was `cburst: 67133b → 67128b`)', () => {
    const p = diff(policy('10mbit'), policy('30mbit'));
    expect(voice(p).fields!.map((f) => f.field)).toEqual(['ceil']);
    expect(p.steps[0]!.argv.join(' ')).toContain('ceil 30mbit prio 0 quantum 67136 burst 2100b cburst 67136b');
  });

  it('a rate change that changes the burst sent still lists the burst', () => {
    const p = diff(policy('10mbit'), policy('10mbit', '6mbit'));
    expect(voice(p).fields!.map((f) => f.field)).toEqual(['rate', 'quantum', 'burst']);
  });

  it.skipIf(!requireKernelTools())('on the kernel: after ceil 10mbit is applied, the plan to 30mbit lists ceil only, applies, and converges', async () => {
    const dir = tempDir('qp-noise-');
    writeFileSync(join(dir, 'a.pol'), policy('10mbit'));
    writeFileSync(join(dir, 'b.pol'), policy('30mbit'));
    await withNetns(async (ns) => {
      await ns.veth('wan0', 'wan0-p');
      const q = cli(ns);
      expect((await q.run(['apply', join(dir, 'a.pol'), '--yes'])).code).toBe(0);
      const shown = String((await ns.run(['tc', 'class', 'show', 'dev', 'wan0'])).stdout);
      expect(shown).toMatch(/ceil 10Mbit .*cburst 67133b/); // 67136b sent, read back through the rate
      const planFile = join(dir, 'plan.json');
      expect((await q.run(['plan', join(dir, 'b.pol'), '-o', planFile, '--detailed-exitcode'])).code).toBe(2);
      const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
      // The class's ceil, and its leaf's limit (~100 ms at the ceil).
      expect(plan.changes.map((c) => [c.action, c.address, c.fields?.map((f) => f.field)])).toEqual([
        ['update', 'class wan0 1:43ed', ['ceil']],
        ['update', 'qdisc wan0 parent 1:43ed', ['limit']],
      ]);
      expect((await q.run(['apply', planFile])).code).toBe(0);
      expect(String((await ns.run(['tc', 'class', 'show', 'dev', 'wan0'])).stdout)).toMatch(/ceil 30Mbit .*cburst 67128b/);
      expect((await q.run(['plan', join(dir, 'b.pol'), '--detailed-exitcode'])).code).toBe(0);
    });
  }, 60_000);
});
