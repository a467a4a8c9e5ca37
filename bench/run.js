// `npm run bench`: every benchmark of bench/, in one session on this machine, then
// bench/RESULTS.md (the report) and bench/results.json (the raw figures).
//
//   1. compile.js      compile time and peak memory, 10 … 10 000 classes
//   2. apply.js        apply from scratch: qospolicy against FireQOS, 10 … 1 000 classes
//   3. incremental.js  one rate changed in 1 000 classes: one `~`, counters kept
//   4. dataplane.js    packets per second through hashed, linear and no filters
//   5. isp.js          circuits from a ShapedDevices.csv: apply, change, compile 50 000, data plane
//
// Needs root (network namespaces). Everything it changes lives in namespaces named
// qpb-PID-N that it removes afterwards, also on failure and on Ctrl-C. Not part of npm test.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchApply } from './apply.js';
import { benchCompile } from './compile.js';
import { benchDataplane } from './dataplane.js';
import { benchIncremental } from './incremental.js';
import { benchIsp } from './isp.js';
import { acquireLabLock, log, must, removeStaleNamespaces, ROOT, SMOKE, snapshotBuild, tempDir } from './lib.js';
import { report } from './report.js';

const num = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const x = Number(v);
  if (!(x > 0)) throw new Error(`${name} must be a positive number, not '${v}'`);
  return x;
};

const sh = (cmd, args, { trim = true } = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (trim ? r.stdout.trim() : r.stdout) : undefined;
};

async function preflight() {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root: it creates network namespaces and runs tc in them');
  for (const tool of ['ip', 'tc', 'gcc', 'unshare']) if (!sh('sh', ['-c', `command -v ${tool}`])) throw new Error(`${tool} is missing`);
  if (!sh('sh', ['-c', 'test -x /usr/bin/time && echo ok'])) throw new Error('GNU time (/usr/bin/time, Debian package `time`) is missing');
  if (!sh('sh', ['-c', 'command -v fireqos'])) {
    log('FireQOS is missing: apt-get install -y --no-install-recommends fireqos');
    await must(['apt-get', 'install', '-y', '--no-install-recommends', 'fireqos'], { env: { DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  }
}

function machine(started) {
  const head = sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) ?? 'unknown';
  const dirty = (sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin', 'package.json', 'package-lock.json', 'tsconfig.build.json'], { trim: false }) ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(3))
    .join(', ');
  return {
    date: new Date(started).toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    commit: head,
    dirty,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model?.trim() ?? 'unknown CPU',
    memGB: (totalmem() / 2 ** 30).toFixed(0),
    kernel: release(),
    node: process.versions.node,
    iproute2: (sh('tc', ['-V']) ?? '').replace(/^tc utility, /, '').split(',')[0],
    fireqos: sh('dpkg-query', ['-W', '-f', '${Version}', 'fireqos']) ?? 'unknown',
    gcc: (sh('gcc', ['--version']) ?? 'gcc').split('\n')[0],
  };
}

async function main() {
  if (process.argv[2] === '--report') {
    // Rewrites RESULTS.md from the figures of the last run (bench/results.json); measures nothing.
    writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), report(JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8'))));
    return;
  }
  const started = Date.now();
  const only = (process.env.QP_BENCH_ONLY ?? '').split(',').filter(Boolean);
  const want = (s) => only.length === 0 || only.includes(s);
  const options = {
    runs: num('QP_BENCH_RUNS', SMOKE ? 1 : 5),
    fireqosRuns: { 10: num('QP_BENCH_RUNS', SMOKE ? 1 : 5), 100: num('QP_BENCH_RUNS', SMOKE ? 1 : 5), 1000: num('QP_BENCH_FIREQOS_RUNS_1000', num('QP_BENCH_RUNS', SMOKE ? 1 : 5)) },
    dpRounds: num('QP_BENCH_DP_ROUNDS', SMOKE ? 1 : 3),
    dpSeconds: num('QP_BENCH_DP_SECONDS', SMOKE ? 0.2 : 2),
  };
  await preflight();
  // The build `npm run bench` just made, and the commit it was made from, fixed now.
  snapshotBuild();
  const identity = machine(started);
  removeStaleNamespaces();
  // A smoke run measures nothing worth protecting from a lab, and must not wait for one.
  if (!SMOKE) await acquireLabLock();
  const loadStart = loadavg()[0].toFixed(2);

  const bin = tempDir();
  const sender = join(bin, 'qpsend');
  await must(['gcc', '-O2', '-Wall', '-o', sender, join(ROOT, 'bench', 'qpsend.c')]);

  const results = { options };
  if (want('compile')) results.compile = await benchCompile({ runs: options.runs });
  if (want('apply')) results.apply = await benchApply({ runs: options.runs, fireqosRuns: options.fireqosRuns });
  if (want('incremental')) results.incremental = await benchIncremental({ runs: options.runs, sender });
  if (want('isp')) results.isp = await benchIsp({ runs: num('QP_BENCH_ISP_RUNS', 1), sender, dpRounds: options.dpRounds, dpSeconds: options.dpSeconds, warmup: SMOKE ? 0.1 : 0.5 });
  if (want('dataplane')) results.dataplane = await benchDataplane({ rounds: options.dpRounds, seconds: options.dpSeconds, warmup: SMOKE ? 0.1 : 0.5, sender });

  const seconds = (Date.now() - started) / 1000;
  results.machine = { ...identity, loadStart, loadEnd: loadavg()[0].toFixed(2), duration: `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s` };
  if (only.length) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  if (SMOKE) {
    // The report is rendered (so report.js runs too) and printed, never written to bench/.
    process.stdout.write(report(results));
    return;
  }
  writeFileSync(join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), report(results));
  log(`done in ${results.machine.duration}: bench/RESULTS.md, bench/results.json`);
}

main().catch((e) => {
  log(`FAILED: ${e.stack ?? e}`);
  process.exitCode = 1;
});
