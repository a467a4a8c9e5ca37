// 6. Link framing: `link … overhead 44 atm exact` compiles to a tc size table (stab
// linklayer atm overhead 44) on the egress HTB root of lan0 and `ip link set dev lan0
// gso_max_segs 1`. A class with ceil 10mbit must then carry as much TCP payload as an ATM
// line of 10 Mbit/s carries, not as much as 10 Mbit/s of Ethernet frames.
//
// The prediction, from first principles (computed below, not fitted):
// - a full-sized TCP segment is an IP packet of L = 1500 bytes (MTU) carrying 1448 bytes
//   of payload (20 IP + 20 TCP + 12 timestamp option);
// - tc's size table counts skb->len, which on lan0 (an Ethernet device) includes the
//   14-byte MAC header, plus the explicit overhead: 1500 + 14 + 44 = 1558 bytes;
// - ATM carries 48 bytes per 53-byte cell, the last cell padded: ceil(1558 / 48) = 33
//   cells = 1749 bytes on the line;
// - goodput = ceil × 1448 / 1749 = 8.28 Mbit/s (REFERENCE.md measured 8.28 by hand).
// Without framing HTB counts the 1514-byte frame: 10 × 1448 / 1514 = 9.56.
//
// GSO: HTB's own length (qdisc_pkt_len_init) counts the headers of every segment of a GSO
// super-packet, but the size table is computed from skb->len once per skb — one header,
// one overhead, one cell rounding per super-packet — so GSO traffic is undercounted and
// runs above the prediction (REFERENCE.md: 8.89). `exact` sets gso_max_segs 1 on the
// shaped interface. That limits the GSO packets TCP builds for sockets of the router
// itself (sk_gso_max_segs comes from the route's device), and those are what the
// prediction is proven on here: the download comes from an iperf3 server in the router
// namespace (10.1.0.1), out lan0 through the tree.
//
// Forwarded traffic is another matter: the egress qdisc sees a forwarded skb before
// validate_xmit_skb() would segment it for the device, so gso_max_segs on lan0 cannot
// split it. In the lab the server's TCP sends GSO packets across its veth; on a real
// router GRO on the receiving port builds them. The last test asserts that documented
// limit (see RESULTS.md). With the sender's own GSO limited (as frames arrive singly from a wire
// with GRO off) forwarded traffic meets the prediction, so the size table is right.
//
// Tolerance ±3 % (tighter than the lab's ±7 %: the drop being proven is 13 %).
import { expect, it } from 'vitest';
import { applyPolicy } from './policy.js';
import { goodputFactor, measure, type Flow, type Measured } from './measure.js';
import { labSuite, labTimeout, report } from './suite.js';
import { withLab, type Host, type Lab } from './topology.js';
import type { Netns } from '../support/netns.js';

const TOL = 0.03;
const CEIL = 10; // Mbit/s, class x
const MTU = 1500;
const PAYLOAD = MTU - 20 - 32; // IPv4 + TCP with timestamps: 1448
const ETHERNET_HEADER = 14; // counted by tc on an Ethernet device (skb->len)
const OVERHEAD = 44;
const CELL = 48;
const CELL_WIRE = 53;

/** Bytes an ATM line carries for one IP packet of `ip` bytes, counted as tc's size table counts it. */
const atmWireBytes = (ip: number, overhead = OVERHEAD) => Math.ceil((ip + ETHERNET_HEADER + overhead) / CELL) * CELL_WIRE;
/** TCP goodput through a class capped at `ceil` Mbit/s of ATM line: payload per line byte. */
const PREDICTED = (CEIL * PAYLOAD) / atmWireBytes(MTU);
const PLAIN = CEIL * goodputFactor(4);

const tree = `egress rate 20mbit {
    class x rate 5mbit ceil ${CEIL}mbit { match tcp sport 5201 }
    class rest rate 1mbit ceil 20mbit default
  }`;
const policy = (link: string) => `interface lan0 {\n  link down 20mbit up 20mbit${link}\n  ${tree}\n}\n`;
const PLAIN_POLICY = policy('');
const ATM_EXACT_POLICY = policy(` overhead ${OVERHEAD} atm exact`);
const ATM_POLICY = policy(` overhead ${OVERHEAD} atm`);
const CLASSES = ['x', 'rest', 'lan0 egress'];

/** ±TOL of expected, both bounds. */
function expectWithin(actual: number, expected: number, what: string): void {
  const lo = expected * (1 - TOL);
  const hi = expected * (1 + TOL);
  const msg = `${what}: ${actual.toFixed(2)} Mbit/s, expected ${expected.toFixed(2)} ±${TOL * 100}% (${lo.toFixed(2)}–${hi.toFixed(2)})`;
  expect(actual, msg).toBeGreaterThanOrEqual(lo);
  expect(actual, msg).toBeLessThanOrEqual(hi);
}

async function gsoMaxSegs(ns: Netns, dev: string): Promise<number> {
  const r = await ns.run(['ip', '-d', 'link', 'show', 'dev', dev]);
  const m = /gso_max_segs (\d+)/.exec(String(r.stdout));
  if (!m) throw new Error(`no gso_max_segs in ip -d link show dev ${dev}`);
  return Number(m[1]);
}

const setGsoMaxSegs = (ns: Netns, dev: string, n: number) => ns.run(['ip', 'link', 'set', 'dev', dev, 'gso_max_segs', String(n)]);

/** The router's own address on lan0, as an iperf3 server host: its TCP leaves through lan0's tree. */
const routerOnLan0 = (lab: Lab): Host => ({ ns: lab.router, v4: '10.1.0.1', v6: 'fd00:1::1' });

const goodputOf = (m: Measured, f: Flow) => m.median.goodput[f.label]!;

/** Line bytes counted per full-sized segment, as implied by a measured goodput at the ceil. */
const impliedBytes = (goodput: number) => (CEIL * PAYLOAD) / goodput;

/** +7.2 % / −0.5 % / 0.0 % */
const pct = (x: number) => {
  const v = Math.round(x * 1000) / 10;
  return `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)} %`;
};

function figures(title: string, m: Measured, f: Flow): void {
  report(title, m, CLASSES);
  const g = goodputOf(m, f);
  console.log(
    `[lab] lab 6: ${f.label}: goodput ${g.toFixed(2)} = ${pct(g / PREDICTED - 1)} against the ATM prediction ${PREDICTED.toFixed(2)}; ` +
      `${impliedBytes(g).toFixed(0)} line bytes counted per segment (ATM: ${atmWireBytes(MTU)}, Ethernet: ${MTU + ETHERNET_HEADER})`,
  );
}

labSuite('lab 6: link framing (ATM size table, exact accounting)', () => {
  it('the prediction, from first principles', () => {
    expect(atmWireBytes(MTU)).toBe(33 * 53); // 1558 bytes → 33 cells
    expect(PREDICTED).toBeCloseTo(8.28, 2);
    expect(PLAIN).toBeCloseTo(9.56, 2);
    console.log(
      `[lab] lab 6: ceil ${CEIL}mbit: plain ${PLAIN.toFixed(2)} (${PAYLOAD}/${MTU + ETHERNET_HEADER}); ATM overhead ${OVERHEAD}: ` +
        `ceil((${MTU}+${ETHERNET_HEADER}+${OVERHEAD})/${CELL}) = ${atmWireBytes(MTU) / CELL_WIRE} cells = ${atmWireBytes(MTU)} bytes → ${PREDICTED.toFixed(2)} Mbit/s ` +
        `(−${((1 - PREDICTED / PLAIN) * 100).toFixed(1)} %)`,
    );
  });

  it(
    "`overhead 44 atm exact`: the router's own TCP through lan0 runs at the ATM prediction, 13 % below the plain ceil",
    () =>
      withLab(async (lab) => {
        const router = routerOnLan0(lab);
        await lab.iperfServer(router, 5201);
        const flow: Flow = { label: 'router → client0', client: lab.client0, server: router, port: 5201, family: 4 };

        const plainCompiled = await applyPolicy(lab, PLAIN_POLICY);
        const plain = await measure(lab, plainCompiled, [flow]);
        figures('lab 6: plain ceil 10mbit (no framing), router-local sender', plain, flow);

        const compiled = await applyPolicy(lab, ATM_EXACT_POLICY);
        // What the compiler promised reached the kernel: the size table (tc prints it with -d)
        // and gso_max_segs 1.
        const qd = String((await lab.router.run(['tc', '-d', 'qdisc', 'show', 'dev', 'lan0'])).stdout);
        expect(qd).toMatch(/linklayer atm overhead 44/);
        expect(await gsoMaxSegs(lab.router, 'lan0')).toBe(1);
        const atm = await measure(lab, compiled, [flow]);
        figures('lab 6: `overhead 44 atm exact`, router-local sender', atm, flow);

        expectWithin(goodputOf(plain, flow), PLAIN, 'plain: goodput vs ceil × 1448/1514');
        expectWithin(goodputOf(atm, flow), PREDICTED, 'atm exact: goodput vs the ATM prediction');
        // HTB counts (and shapes) the line bytes the size table gives: still the ceil.
        expectWithin(atm.median.htb.x!, CEIL, 'atm exact: HTB-counted rate (ATM line bytes) vs ceil');
        // The drop itself: 8.28 / 9.56 = 0.866.
        expectWithin(goodputOf(atm, flow) / goodputOf(plain, flow), PREDICTED / PLAIN, 'atm / plain goodput ratio');
      }),
    labTimeout(2),
  );

  it(
    'without `exact` the same traffic leaves in GSO packets, which the size table undercounts: measurably above the prediction',
    () =>
      withLab(async (lab) => {
        const router = routerOnLan0(lab);
        await lab.iperfServer(router, 5201);
        const flow: Flow = { label: 'router → client0', client: lab.client0, server: router, port: 5201, family: 4 };
        const compiled = await applyPolicy(lab, ATM_POLICY);
        expect(await gsoMaxSegs(lab.router, 'lan0')).toBeGreaterThan(1);
        const m = await measure(lab, compiled, [flow]);
        figures('lab 6: `overhead 44 atm` (no exact), router-local sender', m, flow);
        // REFERENCE.md: 8.89. Above the prediction's upper bound, below the plain figure.
        const g = goodputOf(m, flow);
        expect(g, `no exact: ${g.toFixed(2)} should exceed ${(PREDICTED * (1 + TOL)).toFixed(2)}`).toBeGreaterThan(PREDICTED * (1 + TOL));
        expect(g).toBeLessThan(PLAIN * (1 - TOL));
      }),
    labTimeout(1),
  );

  it(
    "forwarded traffic that arrives in single frames (the sender's GSO limited): the ATM prediction",
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        const flow: Flow = { label: 'server → client0', client: lab.client0, server: lab.server, port: 5201, family: 4 };
        const compiled = await applyPolicy(lab, ATM_EXACT_POLICY);
        // A wire delivers frames one by one; the server's veth would pass its TSO packets on.
        await setGsoMaxSegs(lab.server.ns, 'eth0', 1);
        const m = await measure(lab, compiled, [flow]);
        figures("lab 6: `overhead 44 atm exact`, forwarded, sender's gso_max_segs 1", m, flow);
        expectWithin(goodputOf(m, flow), PREDICTED, 'forwarded single frames: goodput vs the ATM prediction');
      }),
    labTimeout(1),
  );

  // `exact` does not reach forwarded traffic (RESULTS.md; docs/language.md, "GSO"): the
  // measurement is a test of its own, the next one asserts the documented behaviour.
  let forwardedGso: number | undefined;
  it(
    'forwarded traffic in GSO packets (the sender\'s default), with `exact`: measured',
    () =>
      withLab(async (lab) => {
        await lab.iperfServer(lab.server, 5201);
        const flow: Flow = { label: 'server → client0', client: lab.client0, server: lab.server, port: 5201, family: 4 };
        const compiled = await applyPolicy(lab, ATM_EXACT_POLICY);
        expect(await gsoMaxSegs(lab.router, 'lan0')).toBe(1);
        const m = await measure(lab, compiled, [flow]);
        figures('lab 6: `overhead 44 atm exact`, forwarded, sender GSO on (default)', m, flow);
        expectWithin(m.median.htb.x!, CEIL, 'forwarded GSO: HTB-counted rate vs ceil');
        forwardedGso = goodputOf(m, flow);
      }),
    labTimeout(1),
  );
  // The documented limit (docs/language.md, "GSO"): `exact` covers the router's own traffic;
  // forwarded GSO/GRO packets are queued whole, so the size table undercounts them and
  // goodput stays above the ATM prediction. If a kernel or compiler change ever makes
  // forwarded traffic meet it, this fails: then assert the prediction and update the docs.
  it('documented limit: forwarded GSO traffic with `exact` is still undercounted (above the ATM prediction)', () => {
    expect(forwardedGso, 'the measurement above ran').toBeDefined();
    expect(forwardedGso!).toBeGreaterThan(PREDICTED * (1 + TOL));
  });
});
