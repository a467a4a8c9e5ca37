// 2. Under contention a guaranteed/priority class gets at least its rate while a bulk
// flow fills the rest, and the sum holds at the tree rate.
//
// Two downloads through wan0 at the same time: "interactive", one TCP stream from server
// port 5201 to client0, and a bulk flow from port 5202 to client1.
import { expect, it } from 'vitest';
import { applyPolicy } from './policy.js';
import { goodputFactor, measure, type Flow } from './measure.js';
import { expectAtLeast, expectNear, labSuite, labTimeout, report } from './suite.js';
import { withLab, type Lab } from './topology.js';

const F = goodputFactor(4);
const CLASSES = ['interactive', 'bulk', 'wan0 ingress'];

const interactive = (lab: Lab): Flow => ({ label: 'interactive', client: lab.client0, server: lab.server, port: 5201, family: 4 });

async function start(lab: Lab) {
  await lab.iperfServer(lab.server, 5201);
  await lab.iperfServer(lab.server, 5202);
}

/** prio 0 with a ceil below the tree; bulk may take all that is left. */
const PRIO = `interface wan0 {
  ingress rate 20mbit {
    class interactive rate 4mbit ceil 8mbit prio 0 { match tcp sport 5201 }
    class bulk rate 4mbit ceil 20mbit prio 5 default
  }
}`;

labSuite('lab 2: contention', () => {
  it(
    'a guaranteed class keeps its rate against a UDP flood (same prio), the flood fills the rest',
    () =>
      withLab(async (lab) => {
        await start(lab);
        // UDP does not back off. In one FIFO the TCP flow still gets 8–9 Mbit/s of the 20
        // (the control below: pfifo counts packets, and a TCP GSO packet is one packet),
        // so interactive's rate is set above that: only its class can give it 14mbit.
        const flood: Flow = { label: 'bulk UDP 30M', client: lab.client1, server: lab.server, port: 5202, family: 4, udp: '30M' };

        const one = await applyPolicy(lab, `interface wan0 { ingress rate 20mbit { class all rate 20mbit ceil 20mbit default } }`);
        const control = await measure(lab, one, [interactive(lab), flood]);
        report('lab 2a control: both flows in one class (tree 20mbit)', control, ['all', 'wan0 ingress']);

        const compiled = await applyPolicy(
          lab,
          `interface wan0 {
             ingress rate 20mbit {
               class interactive rate 14mbit ceil 20mbit prio 3 { match tcp sport 5201 }
               class bulk rate 6mbit ceil 20mbit prio 3 default
             }
           }`,
        );
        const m = await measure(lab, compiled, [interactive(lab), flood]);
        report('lab 2a: interactive (TCP) rate 14mbit vs bulk (UDP 30M) rate 6mbit, same prio, tree 20mbit', m, CLASSES);

        expectAtLeast(m.median.htb.interactive!, 14, 'interactive: HTB-counted rate vs its rate 14mbit');
        expectAtLeast(m.median.goodput.interactive!, 14 * F, 'interactive: goodput vs 14mbit × goodput factor');
        expectNear(m.median.htb.bulk!, 6, 'bulk: HTB-counted rate vs the rest, 20 − 14 mbit');
        expectNear(m.median.goodput['bulk UDP 30M']!, 6 * goodputFactor(4, 'udp'), 'bulk: UDP goodput vs 6mbit × UDP goodput factor');
        expectNear(m.median.htb['wan0 ingress']!, 20, 'sum (root class): HTB-counted rate vs the tree rate 20mbit');
        // The assertion on interactive can fail: without its class the TCP flow gets less.
        expect(control.median.goodput.interactive!).toBeLessThan(14 * F * 0.93);
      }),
    labTimeout(2),
  );

  // History (RESULTS.md, "Compiler bugs found", bug 1): a cburst smaller than one GSO/GRO
  // packet (up to 64 KiB) made interactive lose ceil time: ~6.8 of its 8mbit. Now the
  // policy limits wan0's GRO to what its slowest tree takes in 1 ms (1514 bytes here,
  // kernel/queue.ts) and cburst holds one such packet; applyPolicy makes the server send
  // what wan0's GRO would merge (policy.ts). A port whose GRO is not limited (not named in
  // the policy) still delivers 64 KiB packets: docs/language.md, latency under load.
  it(
    'a prio 0 class takes its ceil first and four bulk streams fill the rest (packets as wan0\'s limited GRO merges them)',
    () =>
      withLab(async (lab) => {
        await start(lab);
        const compiled = await applyPolicy(lab, PRIO);
        const m = await measure(lab, compiled, [interactive(lab), { label: 'bulk ×4', client: lab.client1, server: lab.server, port: 5202, family: 4, streams: 4 }]);
        report('lab 2b: interactive rate 4mbit ceil 8mbit prio 0 vs bulk ×4 rate 4mbit ceil 20mbit prio 5 (sender: wan0\'s gro_max_size)', m, CLASSES);
        assertPrio(m);
      }),
    labTimeout(1),
  );

  it(
    'a prio 0 class takes its ceil first and four bulk streams fill the rest (MTU-sized packets)',
    () =>
      withLab(async (lab) => {
        await start(lab);
        // One segment per packet from the sender: what a router without GRO sees.
        await lab.server.ns.run(['ip', 'link', 'set', 'dev', 'eth0', 'gso_max_segs', '1']);
        const compiled = await applyPolicy(lab, PRIO);
        const m = await measure(lab, compiled, [interactive(lab), { label: 'bulk ×4', client: lab.client1, server: lab.server, port: 5202, family: 4, streams: 4 }]);
        report('lab 2c: as 2b, sender gso_max_segs 1', m, CLASSES);
        assertPrio(m);
      }),
    labTimeout(1),
  );
});

function assertPrio(m: Awaited<ReturnType<typeof measure>>) {
  expectNear(m.median.htb.interactive!, 8, 'interactive: HTB-counted rate vs its ceil 8mbit');
  expectNear(m.median.goodput.interactive!, 8 * F, 'interactive: goodput vs 8mbit × goodput factor');
  expectNear(m.median.htb.bulk!, 12, 'bulk: HTB-counted rate vs the rest, 20 − 8 mbit');
  expectNear(m.median.goodput['bulk ×4']!, 12 * F, 'bulk: goodput vs 12mbit × goodput factor');
  expectNear(m.median.htb['wan0 ingress']!, 20, 'sum (root class): HTB-counted rate vs 20mbit');
}
