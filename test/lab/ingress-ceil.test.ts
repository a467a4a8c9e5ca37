// 1. Ingress shaping through IFB holds a class's ceil, and the default class's tree rate.
//
// Downloads from the server through the router's wan0 to client0: the compiled policy
// redirects wan0's ingress into ifb0, where the HTB tree shapes it.
//
// What ±7 % is measured against (both are asserted):
// - HTB's own counters (`tc -s class show`, frame bytes) against the configured ceil:
//   HTB shapes frame bytes, so this is the compiler's promise itself.
// - Receiver goodput against ceil × goodputFactor (0.956 for IPv4, measure.ts): TCP
//   payload is 1448 of every 1514 bytes HTB counts. Raw goodput against the raw ceil
//   would start 4.4 % low and leave only 2.6 % of the 7 % for noise; the factor is
//   derived from header sizes, not fitted to the measurement.
import { expect, it } from 'vitest';
import { applyPolicy } from './policy.js';
import { download, goodputFactor, measure } from './measure.js';
import { expectNear, labSuite, labTimeout, report } from './suite.js';
import { withLab } from './topology.js';

const POLICY = `interface wan0 { ingress rate 20mbit { class x rate 5mbit ceil 10mbit { match tcp sport 5201 }  class rest rate 1mbit ceil 20mbit default } }`;
const F = goodputFactor(4);

labSuite('lab 1: ingress shaping through IFB', () => {
  it(
    'holds class x at its ceil (10mbit) and the default class at the tree rate (20mbit)',
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        await lab.iperfServer(lab.server, 5202);
        const flow = (label: string, port: number) => ({ label, client: lab.client0, server: lab.server, port, family: 4 as const });

        // Without a policy the path is far faster than any rate below: the shaper is what limits.
        const unshaped = await download(flow('unshaped', 5201), 2);
        console.log(`[lab] unshaped download wan0 → lan0: ${unshaped.toFixed(0)} Mbit/s`);
        expect(unshaped).toBeGreaterThan(100);

        const compiled = await applyPolicy(lab, POLICY);
        const x = await measure(lab, compiled, [flow('x (sport 5201)', 5201)]);
        report('lab 1: class x alone (rate 5mbit ceil 10mbit)', x, ['x', 'rest', 'wan0 ingress']);
        const rest = await measure(lab, compiled, [flow('rest (sport 5202)', 5202)]);
        report('lab 1: default class rest alone (rate 1mbit ceil 20mbit, tree 20mbit)', rest, ['x', 'rest', 'wan0 ingress']);
        console.log(
          `[lab] lab 1: goodput/ceil x ${(x.median.goodput['x (sport 5201)']! / 10).toFixed(3)}, rest ${(rest.median.goodput['rest (sport 5202)']! / 20).toFixed(3)}; goodput factor ${F.toFixed(3)}`,
        );

        expectNear(x.median.htb.x!, 10, 'x: HTB-counted rate vs ceil 10mbit');
        expectNear(x.median.goodput['x (sport 5201)']!, 10 * F, 'x: goodput vs ceil 10mbit × goodput factor');
        // The x flow is x's alone: the default class stays (nearly) idle.
        expect(x.median.htb.rest!).toBeLessThan(0.1);

        expectNear(rest.median.htb.rest!, 20, 'rest: HTB-counted rate vs the tree rate 20mbit');
        expectNear(rest.median.htb['wan0 ingress']!, 20, 'root class: HTB-counted rate vs 20mbit');
        expectNear(rest.median.goodput['rest (sport 5202)']!, 20 * F, 'rest: goodput vs 20mbit × goodput factor');
        expect(rest.median.htb.x!).toBeLessThan(0.1);
      }),
    labTimeout(2),
  );
});
