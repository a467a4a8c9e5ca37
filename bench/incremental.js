// 3. One rate changed in a 1 000-class policy. qospolicy: `apply` of the changed policy on
// the live tree (it reads the system, plans and applies the difference); the plan must be
// exactly one in-place change (`~ class`) and every class's packet counter must survive.
// FireQOS has no incremental mode: its `start` with the changed config rebuilds everything;
// measured the same way, with its counters compared too.
import { kindOf, fireqosConfig, policy, portOf, prefixes } from './generate.js';
import { fireqosStart, qospolicyApply } from './apply.js';
import { BIN, classCounters, log, median, must, routeThroughV0, scaled, SMOKE, tempDir, timed, withNetns, writeTemp } from './lib.js';

const N = scaled(1000);
// class c500 (c10 in a smoke run): a single-port class (tcp or udp) in a hashed run
export const CHANGED = SMOKE ? 10 : 500;
const RATES = [200, 100]; // kbit, alternately (it starts at 100)

/** Datagrams that reach every class UDP can reach: single-port udp/any classes and prefixes. */
function destinations(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = kindOf(i, n);
    if (k === 'port' && i % 3 !== 0) out.push(`172.16.0.1 ${portOf(i)}`); // i % 3 === 0: tcp only
    if (k === 'prefix') out.push(`${prefixes(i).v4.replace(/\.0\/24$/, '.1')} 9`);
  }
  return out.join('\n') + '\n';
}

/** Sends K datagrams to each destination through v0, so that the classes have counters. */
async function traffic(ns, sender, destFile, k = 3) {
  await ns.must([sender, destFile, '--once', String(k)]);
  await new Promise((r) => setTimeout(r, 300));
}

function compare(before, after, changedClassid) {
  let kept = 0;
  let reset = 0;
  let withTraffic = 0;
  let missing = 0;
  for (const [id, b] of before) {
    const a = after.get(id);
    if (!a) {
      missing++;
      continue;
    }
    if (b.packets > 0) withTraffic++;
    if (b.packets > 0 && a.packets === 0) reset++;
    else if (a.packets === b.packets) kept++;
  }
  return { classes: before.size, withTraffic, kept, reset, missing, changedKept: changedClassid ? after.get(changedClassid)?.packets === before.get(changedClassid)?.packets : undefined };
}

export async function benchIncremental({ runs, sender }) {
  const dir = tempDir();
  const destFile = writeTemp(dir, 'dests.txt', destinations(N));
  const rates = (r) => Object.assign([], { [CHANGED]: r });

  const qp = await withNetns(async (ns) => {
    log(`incremental: qospolicy, initial apply of ${N} classes`);
    const first = await qospolicyApply(ns, writeTemp(dir, 'base.pol', policy(N)), { expectClasses: N + 2 });
    await routeThroughV0(ns);
    await traffic(ns, sender, destFile);
    const samples = [];
    for (let run = 1; run <= runs; run++) {
      const rate = RATES[(run - 1) % 2];
      const file = writeTemp(dir, `changed-${run}.pol`, policy(N, { rates: rates(rate) }));
      const env = { QOSPOLICY_STATE_DIR: first.stateDir, NO_COLOR: '1' };
      const plan = await timed(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'plan', file, '--format', 'json'], { env });
      if (plan.code !== 0) throw new Error(`qospolicy plan failed: ${plan.stderr}`);
      const p = JSON.parse(plan.stdout);
      const changes = p.changes.map((c) => ({ action: c.action, address: c.address, origin: c.origin, fields: (c.fields ?? []).map((f) => f.field) }));
      const one = changes.length === 1 && changes[0].action === 'update' && changes[0].origin === `v0 egress › c${CHANGED}` && changes[0].fields.includes('rate');
      const text = await must(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'plan', file], { env });
      const before = await classCounters(ns);
      log(`incremental: qospolicy apply, c${CHANGED} rate → ${rate}kbit, run ${run}/${runs}`);
      const r = await timed(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'apply', file, '--yes'], { env });
      if (r.code !== 0) throw new Error(`qospolicy apply (changed) failed: ${r.stderr}${r.stdout}`);
      const after = await classCounters(ns);
      const classid = changes[0]?.address?.split(' ')[2];
      const cmp = compare(before, after, classid);
      const newRate = after.get(classid)?.rate;
      samples.push({ seconds: r.seconds, cpu: r.cpu, planSeconds: plan.seconds, one, changes, planText: text.stdout.trim(), summary: /Apply complete\. (.*)/.exec(r.stdout)?.[1], cmp, classid, newRate, rate });
    }
    return samples;
  });

  // FireQOS: start, traffic, start again with the changed rate (its only way to change).
  const fq = await withNetns(async (ns) => {
    const runDir = tempDir('qpbench-fireqos-run-');
    log(`incremental: fireqos, initial start of ${N} classes`);
    const first = await fireqosStart(ns, writeTemp(dir, 'base.fireqos.conf', fireqosConfig(N)), { runDir, expectClasses: N + 2 });
    await routeThroughV0(ns);
    await traffic(ns, sender, destFile);
    const before = await classCounters(ns);
    log(`incremental: fireqos start with c${CHANGED} at ${RATES[0]}kbit (a full restart)`);
    const r = await fireqosStart(ns, writeTemp(dir, 'changed.fireqos.conf', fireqosConfig(N, { rates: rates(RATES[0]) })), { runDir, expectClasses: N + 2 });
    const after = await classCounters(ns);
    return { first: { seconds: first.seconds }, seconds: r.seconds, cpu: r.cpu, tcCommands: r.tcCommands, cmp: compare(before, after) };
  });

  return {
    qp: {
      wall: median(qp.map((s) => s.seconds)),
      cpu: median(qp.map((s) => s.cpu)),
      planWall: median(qp.map((s) => s.planSeconds)),
      walls: qp.map((s) => s.seconds),
      everyPlanOneChange: qp.every((s) => s.one),
      everyCounterKept: qp.every((s) => s.cmp.kept === s.cmp.classes && s.cmp.reset === 0 && s.cmp.missing === 0),
      everyRateApplied: qp.every((s) => s.newRate?.toLowerCase() === `${s.rate}kbit`),
      samples: qp,
    },
    fq,
  };
}
