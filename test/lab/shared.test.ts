// 3. A `shared` limit across two interfaces: one HTB tree on one ifb for the egress of
// lan0 and lan1. Downloads from the server to client0 (out lan0) and client1 (out lan1):
// each alone may use the whole 12mbit; both at once share it, the sum held at 12mbit.
// A child class per port splits it evenly (REFERENCE.md: in one FIFO the split is
// uneven, 5.3/6.1 once 7.5/4.1).
import { it } from 'vitest';
import { applyPolicy } from './policy.js';
import { goodputFactor, measure, type Flow } from './measure.js';
import { expectAtLeast, expectNear, labSuite, labTimeout, report } from './suite.js';
import { withLab } from './topology.js';

const POLICY = `shared uplinks egress on lan0, lan1 rate 12mbit {
  class office0 rate 6mbit ceil 12mbit { match dst 10.1.0.0/24, fd00:1::/64 }
  class office1 rate 6mbit ceil 12mbit default
}`;
const F = goodputFactor(4);
const CLASSES = ['office0', 'office1', 'shared uplinks'];

labSuite('lab 3: shared limit across interfaces', () => {
  it(
    'holds lan0 + lan1 at 12mbit together, while each alone may use all of it',
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        await lab.iperfServer(lab.server, 5202);
        const compiled = await applyPolicy(lab, POLICY);
        const to0: Flow = { label: 'to client0 (lan0)', client: lab.client0, server: lab.server, port: 5201, family: 4 };
        const to1: Flow = { label: 'to client1 (lan1)', client: lab.client1, server: lab.server, port: 5202, family: 4 };

        const alone0 = await measure(lab, compiled, [to0]);
        report('lab 3: lan0 alone', alone0, CLASSES);
        const alone1 = await measure(lab, compiled, [to1]);
        report('lab 3: lan1 alone', alone1, CLASSES);
        const both = await measure(lab, compiled, [to0, to1]);
        report('lab 3: lan0 and lan1 together (shared 12mbit)', both, CLASSES);
        const sum = both.median.goodput[to0.label]! + both.median.goodput[to1.label]!;
        console.log(`[lab] lab 3: goodput sum together ${sum.toFixed(2)} Mbit/s (limit 12mbit × ${F.toFixed(3)} = ${(12 * F).toFixed(2)})`);

        expectNear(alone0.median.htb.office0!, 12, 'lan0 alone: HTB-counted rate vs the shared 12mbit');
        expectNear(alone0.median.goodput[to0.label]!, 12 * F, 'lan0 alone: goodput vs 12mbit × goodput factor');
        expectNear(alone1.median.htb.office1!, 12, 'lan1 alone: HTB-counted rate vs the shared 12mbit');
        expectNear(alone1.median.goodput[to1.label]!, 12 * F, 'lan1 alone: goodput vs 12mbit × goodput factor');

        expectNear(both.median.htb['shared uplinks']!, 12, 'together: HTB-counted sum (root class) vs 12mbit');
        expectNear(sum, 12 * F, 'together: sum of goodputs vs 12mbit × goodput factor');
        expectAtLeast(both.median.htb.office0!, 6, 'together: lan0 class vs its rate 6mbit');
        expectAtLeast(both.median.htb.office1!, 6, 'together: lan1 class vs its rate 6mbit');
      }),
    labTimeout(3),
  );
});
