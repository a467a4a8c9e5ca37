// 4. The default class catches unmatched traffic. Two downloads through wan0 at once: one
// from server port 5201, matched by class x, and one from port 5202, which no class
// matches. HTB's per-class counters (`tc -s class show`) must put the second in `rest`
// (the default), none of either in ssh or web, and the rates must follow the classes.
// Every class has ceil = rate where traffic flows, so nothing borrows and the figures
// test classification alone. (With `rest rate 4mbit ceil 8mbit` rest borrowed only to
// ~7.2 of 8: the compiled cburst is below a GSO packet — see contention.test.ts, 2b.)
import { expect, it } from 'vitest';
import { applyPolicy } from './policy.js';
import { goodputFactor, measure, type Flow } from './measure.js';
import { expectNear, labSuite, labTimeout, report } from './suite.js';
import { withLab } from './topology.js';

const POLICY = `interface wan0 {
  ingress rate 12mbit {
    class ssh rate 500kbit ceil 2mbit prio 0 { match tcp sport 22 }
    class web rate 1500kbit ceil 12mbit prio 2 {
      match tcp sport 80,443
      match udp sport 443
    }
    class x rate 4mbit ceil 4mbit prio 3 { match tcp sport 5201 }
    class rest rate 6mbit ceil 6mbit prio 4 default
  }
}`;
const F = goodputFactor(4);

labSuite('lab 4: the default class', () => {
  it(
    'takes the unmatched flow (counters and rate) while the matched flow stays in its class',
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        await lab.iperfServer(lab.server, 5202);
        const compiled = await applyPolicy(lab, POLICY);
        const matched: Flow = { label: 'matched 5201', client: lab.client0, server: lab.server, port: 5201, family: 4 };
        const unmatched: Flow = { label: 'unmatched 5202', client: lab.client1, server: lab.server, port: 5202, family: 4 };
        const m = await measure(lab, compiled, [matched, unmatched]);
        report('lab 4: x (sport 5201, ceil 4mbit) and an unmatched flow (sport 5202) into rest (ceil 6mbit), tree 12mbit', m, ['ssh', 'web', 'x', 'rest', 'wan0 ingress']);

        for (const r of m.runs) {
          expect(r.packets.ssh, 'packets in ssh').toBe(0);
          expect(r.packets.web, 'packets in web').toBe(0);
        }
        expectNear(m.median.htb.rest!, 6, 'rest (default): HTB-counted rate vs its ceil 6mbit');
        expectNear(m.median.goodput[unmatched.label]!, 6 * F, 'unmatched flow: goodput vs 6mbit × goodput factor');
        expectNear(m.median.htb.x!, 4, 'x: HTB-counted rate vs its ceil 4mbit');
        expectNear(m.median.goodput[matched.label]!, 4 * F, 'matched flow: goodput vs 4mbit × goodput factor');
        expectNear(m.median.htb['wan0 ingress']!, 10, 'root class: HTB-counted rate vs x + rest, 4 + 6 mbit');
      }),
    labTimeout(1),
  );
});
