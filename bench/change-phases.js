// Where the time of one circuit's rate change goes at 10 000 circuits both ways (issue #17):
// the phases of `qospolicy apply` (compile while the live system is read, what is left of
// reading, ownership, the plan's phases, the run, the read-back of the touched devices and
// the plan that verify it), timed in one process from dist/. As root:
//   node bench/change-phases.js [circuits=10000] [rounds=3]
// It makes a namespace (removed afterwards), applies the policy from empty, then applies a
// rate change of one circuit and back, `rounds` times, printing each phase's ms.
// Inside the namespace (`--inside POLICY STATEDIR`) it is the timed process itself.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shapedDevices, writeIsp } from './circuits.js';
import { qospolicyApply } from './apply.js';
import { ROOT, must, tempDir, withNetns } from './lib.js';

const D = join(ROOT, 'dist');
if (process.argv[2] === '--inside') await inside(process.argv[3], process.argv[4]);
else await outside(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 3));

async function outside(n, rounds) {
  const dir = tempDir('qpbench-phases-');
  const pol = writeIsp(dir, n, { down: 'v0', up: 'v1', sites: false, leaf: 'bfifo' });
  await withNetns(async (ns) => {
    const { stateDir } = await qospolicyApply(ns, pol);
    for (let r = 0; r < rounds * 2; r++) {
      // A rate change and back: each apply is one circuit's rate changed.
      writeFileSync(join(dir, 'subs.csv'), shapedDevices(n, { down: r % 2 ? {} : { [Math.floor(n / 2)]: 150 }, sites: false }));
      const out = await must(['ip', 'netns', 'exec', ns.name, 'env', `QOSPOLICY_STATE_DIR=${stateDir}`, process.execPath, process.argv[1], '--inside', pol, stateDir]);
      console.log(`round ${r + 1}, load ${(await must(['cat', '/proc/loadavg'])).stdout.split(' ')[0]}:\n${out.stdout}`);
    }
  });
}

async function inside(file, dir) {
  const { cliContext } = await import(`${D}/cli/context.js`);
  const { readOwned, inScope } = await import(`${D}/kinds/owned.js`);
  const { checkOwnership, readStateFile, scopeFor, writeStateFile, ownedOf } = await import(`${D}/plan/index.js`);
  const { readOwners } = await import(`${D}/state/index.js`);
  const { placeFilters, makeBeforeBreak } = await import(`${D}/plan/hitless.js`);
  const { splitNodes } = await import(`${D}/plan/buckets.js`);
  const { wantedObjects } = await import(`${D}/plan/objects.js`);
  const { judgeAll } = await import(`${D}/plan/judge.js`);
  const { removals } = await import(`${D}/plan/removals.js`);
  const { canonicalOrder, classDepth, stepsOf } = await import(`${D}/plan/order.js`);
  const { changesOf } = await import(`${D}/plan/changes.js`);
  const { runSteps } = await import(`${D}/apply/run.js`);
  const { readAhead } = await import(`${D}/apply/system.js`);
  const { touchedOnly } = await import(`${D}/apply/apply.js`);
  const t = [];
  let t0 = performance.now();
  const lap = (k) => {
    const now = performance.now();
    t.push([k, now - t0]);
    t0 = now;
  };
  // makePlan (src/plan/make.ts), phase by phase.
  const plan = (compiled, live, scope, tag) => {
    const liveIn = live.filter((o) => inScope(o, scope));
    const { desired, tableSteps, inPlace } = placeFilters(compiled, liveIn);
    lap(`${tag}placeFilters`);
    const parts = splitNodes(desired.objects, liveIn, inPlace);
    const wanted = wantedObjects(parts.desired === desired.objects ? desired : { ...desired, objects: parts.desired });
    lap(`${tag}splitNodes + wantedObjects (expected readback)`);
    const liveById = new Map();
    for (const o of parts.live) if (!liveById.has(o.id)) liveById.set(o.id, o);
    const { verdicts } = judgeAll(wanted, desired, liveById, 'plan');
    lap(`${tag}judge`);
    const goes = removals(liveById, new Set(wanted.map((w) => w.obj.id)), verdicts, scope, tableSteps);
    const depth = classDepth(liveById);
    const order = canonicalOrder(depth);
    const changes = changesOf({ wanted, liveById, verdicts, goes, order });
    const removed = [...goes].filter(([, g]) => !g.implicit).map(([id]) => liveById.get(id));
    const steps = makeBeforeBreak(stepsOf({ changes, wanted: wanted.map((w) => w.obj), liveById, removed, depth, order, scope }), changes, parts.live, tableSteps);
    lap(`${tag}removals, changes, steps`);
    return { changes, steps, desired };
  };
  const ctx = cliContext({ out: () => {}, err: (s) => process.stderr.write(`${s}\n`), color: false }, () => {});
  // As `apply`: the scope the state file claims is read while the policy compiles.
  const ahead = readAhead(dir);
  const c = await ctx.compileLive(file);
  lap('compile (parse, check, backends), the live system read meanwhile');
  const previous = readStateFile(dir);
  const claimed = scopeFor(c.state, previous?.owned);
  const live = JSON.stringify(ahead?.scope) === JSON.stringify(claimed) ? await ahead.live : await readOwned(claimed);
  lap('read live: what is left after compile');
  const { scope } = checkOwnership(c.state, previous?.owned, claimed, live, dir, await readOwners());
  lap('checkOwnership');
  const p = plan(c.state, live, scope, 'plan: ');
  const run = await runSteps(p.steps);
  if (run.failure) throw new Error(`step failed: ${run.failure.command}: ${run.failure.message}`);
  lap(`run ${p.steps.length} steps`);
  // As applyPlan: only the devices the steps touched, read again and planned.
  const { desired, tcOf, noFiltersOf } = touchedOnly(p);
  const after = [...(await readOwned(scope, { tcOf, noFiltersOf })), ...live.filter((o) => o.kind === 'filter' && noFiltersOf.has(o.dev))];
  lap(`verify: read ${[...tcOf].join(', ')} again${noFiltersOf.size ? ` (no filters of ${[...noFiltersOf].join(', ')})` : ''}`);
  const left = plan(desired, after, scope, 'verify: ');
  if (left.changes.length) throw new Error(`verify: ${left.changes.length} changes left`);
  writeStateFile(dir, ownedOf(c.state.objects), c.ref);
  lap('state file');
  for (const [k, ms] of t) console.log(`${ms.toFixed(0).padStart(6)} ms  ${k}`);
  console.log(`${t.reduce((a, [, ms]) => a + ms, 0).toFixed(0).padStart(6)} ms  in all (after Node's start and loading)`);
}
