// 5. IPv6 traffic is classified by IPv6 matches. Three downloads through wan0 at once:
//   A  IPv6 to client0 (fd00:1::2), server port 5201 → office0v6 (match dst fd00:1::/64)
//   B  IPv6 to client1 (fd00:2::2), server port 5202 → port5202 (match tcp sport 5202,
//      which the compiler turns into an ipv6 u32 filter reading the port at offset 40)
//   C  IPv4 to client0 (10.1.0.2), server port 5203 → rest: the IPv6 prefix must not
//      catch the same host's IPv4 traffic.
// Classes A and B have ceil = rate; only rest borrows.
import { it } from 'vitest';
import { applyPolicy } from './policy.js';
import { goodputFactor, measure, type Flow } from './measure.js';
import { expectNear, labSuite, labTimeout, report } from './suite.js';
import { withLab } from './topology.js';

const POLICY = `interface wan0 {
  ingress rate 20mbit {
    class office0v6 rate 6mbit ceil 6mbit { match dst fd00:1::/64 }
    class port5202 rate 4mbit ceil 4mbit { match tcp sport 5202 }
    class rest rate 2mbit ceil 20mbit default
  }
}`;

labSuite('lab 5: IPv6 classification', () => {
  it(
    'puts IPv6 flows in the classes of their IPv6 prefix and port matches, IPv4 in the default',
    () =>
      withLab(async (lab) => {
        for (const port of [5201, 5202, 5203]) await lab.iperfServer(lab.server, port);
        const compiled = await applyPolicy(lab, POLICY);
        const a: Flow = { label: 'A v6 dst fd00:1::2', client: lab.client0, server: lab.server, port: 5201, family: 6 };
        const b: Flow = { label: 'B v6 sport 5202', client: lab.client1, server: lab.server, port: 5202, family: 6 };
        const c: Flow = { label: 'C v4 to client0', client: lab.client0, server: lab.server, port: 5203, family: 4 };
        const m = await measure(lab, compiled, [a, b, c]);
        report('lab 5: IPv6 prefix class (6mbit), IPv6 port class (4mbit), IPv4 to the default (rest of 20mbit)', m, ['office0v6', 'port5202', 'rest', 'wan0 ingress']);

        expectNear(m.median.htb.office0v6!, 6, 'office0v6: HTB-counted rate vs 6mbit');
        expectNear(m.median.goodput[a.label]!, 6 * goodputFactor(6), 'A: goodput vs 6mbit × IPv6 goodput factor');
        expectNear(m.median.htb.port5202!, 4, 'port5202: HTB-counted rate vs 4mbit');
        expectNear(m.median.goodput[b.label]!, 4 * goodputFactor(6), 'B: goodput vs 4mbit × IPv6 goodput factor');
        expectNear(m.median.htb.rest!, 10, 'rest: HTB-counted rate vs 20 − 6 − 4 mbit');
        expectNear(m.median.goodput[c.label]!, 10 * goodputFactor(4), 'C: goodput vs 10mbit × IPv4 goodput factor');
      }),
    labTimeout(1),
  );
});
