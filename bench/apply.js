// 2. Apply from scratch: `qospolicy apply FILE --yes` (compile, read the live system, plan,
// apply, verify) against `fireqos start CONFIG` for the same shaping, each in a fresh
// namespace with a veth pair (v0 shaped, egress). FireQOS runs inside the namespace and in
// a private mount namespace (`unshare -m`) with a temp dir bind-mounted on /run, where it
// keeps its lock and state: it never sees the host's interfaces or /run, and its config is
// passed as an argument from a temp dir (the host's /etc/firehol is never read for it).
import { fireqosConfig, policy } from './generate.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, classCounters, log, median, must, scaled, tempDir, timed, withNetns, writeTemp } from './lib.js';

export const APPLY_SIZES = [10, 100, 1000];

/** `qospolicy apply FILE --yes` in ns with a fresh state dir; checks the result. */
export async function qospolicyApply(ns, file, { stateDir = tempDir('qpbench-state-'), expectClasses } = {}) {
  const r = await timed(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'apply', file, '--yes'], { env: { QOSPOLICY_STATE_DIR: stateDir, NO_COLOR: '1' } });
  if (r.code !== 0 || !/Apply complete/.test(r.stdout)) throw new Error(`qospolicy apply ${file} failed (${r.code}): ${r.stderr}${r.stdout.slice(-2000)}`);
  if (expectClasses !== undefined) {
    const classes = (await classCounters(ns)).size;
    if (classes !== expectClasses) throw new Error(`after qospolicy apply: ${classes} classes on v0, expected ${expectClasses}`);
  }
  const summary = /Apply complete\. (.*)/.exec(r.stdout)?.[1] ?? '';
  return { ...r, stateDir, summary };
}

/** `fireqos start CONFIG` inside ns, with runDir (its state, kept for a restart) as /run. */
export async function fireqosStart(ns, config, { expectClasses, runDir = tempDir('qpbench-fireqos-run-') } = {}) {
  const script = 'mount --bind "$1" /run && exec fireqos start "$0"';
  const r = await timed(['ip', 'netns', 'exec', ns.name, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script, config, runDir], { timeout: 900_000 });
  if (r.code !== 0 || !/All Done/.test(r.stderr + r.stdout)) throw new Error(`fireqos start ${config} failed (${r.code}): ${(r.stderr + r.stdout).slice(-3000)}`);
  const tcCommands = Number(/(\d+) TC commands executed/.exec(r.stderr + r.stdout)?.[1] ?? NaN);
  if (expectClasses !== undefined) {
    const classes = (await classCounters(ns)).size;
    if (classes !== expectClasses) throw new Error(`after fireqos start: ${classes} classes on v0, expected ${expectClasses}`);
  }
  return { ...r, tcCommands };
}

async function filterNodes(ns) {
  const text = (await ns.must(['tc', 'filter', 'show', 'dev', 'v0'])).stdout;
  return text.split('\n').filter((l) => /flowid/.test(l)).length;
}

export async function benchApply({ runs, fireqosRuns }) {
  const dir = tempDir();
  const files = {};
  for (const n of APPLY_SIZES) files[n] = { pol: writeTemp(dir, `classes-${n}.pol`, policy(scaled(n))), fq: writeTemp(dir, `classes-${n}.fireqos.conf`, fireqosConfig(scaled(n))) };
  const samples = Object.fromEntries(APPLY_SIZES.map((n) => [n, { qp: [], fq: [], node: [], compile: [], plan: [], batch: [] }]));
  // Where qospolicy's time goes at 1 000 classes, in the same rounds: Node's start,
  // `compile`, `plan` alone (compile + read + plan, in a fresh namespace) and the compiled
  // commands through one `tc -batch` (what tc and the kernel need, in a fresh namespace).
  const batchPrefix = join(dir, 'classes-1000');
  await must([process.execPath, BIN, 'compile', files[1000].pol, '--format', 'batch', '-o', batchPrefix]);
  const batchFile = `${batchPrefix}.tc`;
  const tcCommands = readFileSync(batchFile, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;
  const objects = {};
  const rounds = Math.max(runs, ...Object.values(fireqosRuns));
  for (let round = 1; round <= rounds; round++) {
    for (const n of APPLY_SIZES) {
      if (round <= runs) {
        log(`apply: qospolicy ${n} classes, run ${round}/${runs}`);
        await withNetns(async (ns) => {
          const r = await qospolicyApply(ns, files[n].pol, { expectClasses: scaled(n) + 2 });
          samples[n].qp.push(r);
          if (round === 1) objects[n] = { ...objects[n], qp: { summary: r.summary, filterNodes: await filterNodes(ns) } };
        });
      }
      if (n === 1000 && round <= runs) {
        samples[n].node.push(await timed([process.execPath, '-e', '0']));
        const c = await timed([process.execPath, BIN, 'compile', files[n].pol, '-o', join(dir, 'classes-1000.sh')], { env: { NO_COLOR: '1' } });
        if (c.code !== 0) throw new Error(`qospolicy compile failed: ${c.stderr}`);
        samples[n].compile.push(c);
        await withNetns(async (ns) => {
          const r = await timed(['ip', 'netns', 'exec', ns.name, process.execPath, BIN, 'plan', files[n].pol], { env: { QOSPOLICY_STATE_DIR: tempDir('qpbench-state-'), NO_COLOR: '1' } });
          if (r.code !== 0) throw new Error(`qospolicy plan failed: ${r.stderr}`);
          samples[n].plan.push(r);
        });
        await withNetns(async (ns) => {
          const r = await timed(['ip', 'netns', 'exec', ns.name, 'tc', '-batch', batchFile]);
          if (r.code !== 0) throw new Error(`tc -batch ${batchFile} failed: ${r.stderr}`);
          samples[n].batch.push(r);
        });
      }
      if (round <= fireqosRuns[n]) {
        log(`apply: fireqos ${n} classes, run ${round}/${fireqosRuns[n]}`);
        await withNetns(async (ns) => {
          const r = await fireqosStart(ns, files[n].fq, { expectClasses: scaled(n) + 2 });
          samples[n].fq.push(r);
          if (round === 1) objects[n] = { ...objects[n], fq: { tcCommands: r.tcCommands, filterNodes: await filterNodes(ns) } };
        });
      }
    }
  }
  const stat = (xs) => ({ wall: median(xs.map((x) => x.seconds)), cpu: median(xs.map((x) => x.cpu)), rssKB: median(xs.map((x) => x.rssKB)), walls: xs.map((x) => x.seconds), runs: xs.length });
  const result = { sizes: {}, parts1000: { node: stat(samples[1000].node), compile: stat(samples[1000].compile), plan: stat(samples[1000].plan), batch: stat(samples[1000].batch), tcCommands } };
  for (const n of APPLY_SIZES) result.sizes[n] = { qp: stat(samples[n].qp), fq: stat(samples[n].fq), objects: objects[n] };
  return result;
}
