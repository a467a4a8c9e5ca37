// Failure injection: for every step k of an apply, make exactly that command fail on the
// kernel (a tc wrapper first on PATH points it at a device that does not exist); apply must
// restore the state it found, equal byte for byte.
import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernelTools, withNetns } from '../support/netns.js';
import { cli, liveText, rawState } from './helpers.js';
import type { Plan } from '../../src/plan/index.js';
import { faultyTools } from '../support/faulty.js';
import { tempDir } from '../support/tmp.js';

const A = `interface wan0 {
  ingress rate 20mbit {
    class voice rate 2mbit ceil 5mbit prio 0 { match udp dport 5060 }
    class web rate 8mbit ceil 20mbit prio 1 { match tcp sport 80,443 }
    class bulk rate 5mbit ceil 20mbit prio 3 default
  }
  egress rate 10mbit {
    class ssh rate 1mbit ceil 10mbit { match tcp dport 22 }
    class rest rate 5mbit ceil 10mbit default
  }
}
`;
// Every kind of change: an in-place rate change (~), a filter replaced (-/+), a class and
// its leaf and filters added (+) and removed (-), and on egress a new default, which
// replaces the htb root and rebuilds the tree under it.
const B = A.replace('class voice rate 2mbit', 'class voice rate 3mbit')
  .replace('match tcp sport 80,443 }', 'match tcp sport 80,443,8080 }')
  .replace('class bulk rate 5mbit ceil 20mbit prio 3 default', 'class bulk rate 4mbit ceil 20mbit prio 3 default\n    class games rate 1mbit ceil 10mbit prio 2 { match udp sport 27015 }')
  .replace('    class ssh rate 1mbit ceil 10mbit { match tcp dport 22 }\n    class rest rate 5mbit ceil 10mbit default', '    class rest rate 5mbit ceil 10mbit\n    class dns rate 1mbit ceil 2mbit default');

describe.skipIf(!requireKernelTools())('failure injection', () => {
  it('for each step k, a failing k-th command leaves the system exactly as it was', async () => {
    const dir = tempDir('qp-fail-');
    writeFileSync(join(dir, 'a.pol'), A);
    writeFileSync(join(dir, 'b.pol'), B);
    await withNetns(async (ns) => {
      await ns.veth('wan0', 'wan0-p');
      const q = cli(ns);
      expect((await q.run(['apply', join(dir, 'a.pol'), '--yes'])).code).toBe(0);
      const planFile = join(dir, 'plan.json');
      expect((await q.run(['plan', join(dir, 'b.pol'), '-o', planFile])).code).toBe(0);
      const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
      expect(new Set(plan.changes.map((c) => c.action))).toEqual(new Set(['create', 'update', 'replace', 'delete']));
      expect(plan.steps.length).toBeGreaterThan(10);

      const beforeModel = await liveText(ns, plan.scope);
      const beforeRaw = await rawState(ns);
      expect(plan.steps.every((s) => s.tool === 'tc')).toBe(true); // the wrapper counts tc and ip lines
      const faulty = faultyTools();
      for (let k = 0; k < plan.steps.length; k++) {
        rmSync(faulty.count, { force: true });
        const r = await q.run(['apply', planFile, '--yes'], faulty.env({ QP_FAULT_LINE: String(k + 1) }));
        expect(r.code, `step ${k}`).toBe(1);
        expect(r.stderr, `step ${k}`).toContain(`error QP4007: step ${k + 1} of ${plan.steps.length} failed`);
        expect(r.stderr, `step ${k}`).toContain('The system was restored to its state before the apply.');
        expect(await liveText(ns, plan.scope), `step ${k}`).toBe(beforeModel);
        expect(await rawState(ns), `step ${k}`).toBe(beforeRaw);
      }
      // and unbroken, the same plan applies and converges
      expect((await q.run(['apply', planFile, '--yes'])).code).toBe(0);
      expect((await q.run(['plan', join(dir, 'b.pol'), '--detailed-exitcode'])).code).toBe(0);
    });
  }, 300_000);
});
